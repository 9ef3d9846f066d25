"""Choosing which questions an attempt shows."""
from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    key: str
    tags: frozenset[str]
    #: The person has been shown this question in an earlier attempt.
    seen: bool = False


def draw_questions(candidates: list[Candidate], count: int, minimum_by_tag: dict[str, int],
                   rng: random.Random) -> list[str]:
    """Pick `count` keys honouring per-tag minimums, preferring unseen questions, in random order."""
    pool = list(candidates)
    rng.shuffle(pool)
    # Unseen first; the shuffle above keeps the choice among equals random.
    pool.sort(key=lambda c: c.seen)
    chosen: list[Candidate] = []

    def take(predicate, how_many: int) -> None:
        for candidate in [c for c in pool if predicate(c)][:how_many]:
            pool.remove(candidate)
            chosen.append(candidate)

    for tag in sorted(minimum_by_tag):
        have = sum(1 for c in chosen if tag in c.tags)
        if have < minimum_by_tag[tag]:
            take(lambda c, tag=tag: tag in c.tags, minimum_by_tag[tag] - have)
    take(lambda c: True, max(0, count - len(chosen)))
    chosen = chosen[:count]
    rng.shuffle(chosen)
    return [c.key for c in chosen]
