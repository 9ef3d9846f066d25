"""Whether a person's practical record meets a course's requirements (pure: no database)."""
from __future__ import annotations

from dataclasses import dataclass, field

PASSING_SIGNOFFS = ("competent", "competent_with_supervision")


@dataclass(frozen=True)
class PracticalProgress:
    """What the logbook and the signed DOPS show for one person and course."""

    #: Cases an assessor verified.
    verified_cases: int = 0
    #: Distinct indications among the verified cases.
    indications: frozenset = field(default_factory=frozenset)
    #: Verified cases an assessor observed in a signed DOPS.
    observed_cases: int = 0
    #: The overall judgement of the newest final sign-off, or None when there is none.
    final_signoff: str | None = None
    #: Signed DOPS since the certificate being renewed (renewal only).
    observed_since: int = 0


def requirements_met(practical: dict | None, progress: PracticalProgress, renewal: bool = False) -> bool:
    """True when the course needs no practical, or the logbook, observations and final sign-off
    all meet it (and, for a renewal, the refresher observations were made since the last issue)."""
    if not practical:
        return True
    logbook = practical["logbook"]
    met = (progress.verified_cases >= logbook["min_cases"]
           and len(progress.indications) >= logbook["min_indications"]
           and progress.observed_cases >= logbook["min_observed"]
           and progress.final_signoff in PASSING_SIGNOFFS)
    if renewal:
        met = met and progress.observed_since >= practical.get("renewal", {}).get("observed_cases", 0)
    return met


def progress_summary(practical: dict | None, progress: PracticalProgress) -> str:
    """A register cell: "practical in progress (3 of 6 cases)", "awaiting sign-off", ..."""
    if not practical:
        return ""
    logbook = practical["logbook"]
    if requirements_met(practical, progress):
        return "practical signed off" + (" (requires supervision)"
                                         if progress.final_signoff == "competent_with_supervision" else "")
    if progress.verified_cases < logbook["min_cases"]:
        return f"practical in progress ({progress.verified_cases} of {logbook['min_cases']} cases)"
    if len(progress.indications) < logbook["min_indications"]:
        return (f"practical in progress ({len(progress.indications)} of {logbook['min_indications']} "
                f"indications)")
    if progress.observed_cases < logbook["min_observed"]:
        return (f"practical in progress ({progress.observed_cases} of {logbook['min_observed']} "
                f"observed cases)")
    return "practical awaiting final sign-off"
