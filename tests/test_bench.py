"""The spike benchmark's smoke test: a handful of learners through gunicorn, the report's shape, the lost check.

No timing is asserted (speed is measured by `make bench`); this checks that the benchmark works.
"""
from xml.etree import ElementTree

import bench.run
from bench.common import app_env, count_lost
from bench.spike import KINDS, SIGN_IN, SpikeSettings, format_report, run_spike


def test_the_spike_reports_each_kind_of_request_and_checks_every_acknowledged_save(tmp_path):
    url = f"sqlite:///{tmp_path}/spike.db"
    settings = SpikeSettings(learners=5, ramp=1, saves=2, interval=0.5, sign_ins=3)
    report = run_spike("SQLite", url, settings, tmp_path)

    assert report["errors"] == 0 and report["learners_done"] == 5
    assert report["acknowledged"] == 10 and report["lost"] == 0
    for kind in KINDS:
        expected = 10 if kind == "autosave" else 5
        k = report["kinds"][kind]
        assert k["requests"] == expected and k["errors"] == 0
        assert 0 < k["p50_ms"] <= k["p95_ms"] <= k["max_ms"]
    # The three sign-ins went through the login form (bcrypt at the app's cost) and each was let in.
    sign_in = report["kinds"][SIGN_IN]
    assert sign_in["requests"] == 3 and sign_in["errors"] == 0
    assert 0 < sign_in["p50_ms"] <= sign_in["p95_ms"] <= sign_in["max_ms"]
    text = (tmp_path / "spike-sqlite.txt").read_text()
    assert text == format_report(report) + "\n" and "lost answers 0 of 10 acknowledged saves" in text
    assert "then submit, 3 sign-ins spread over the ramp (" in text.splitlines()[0]
    assert [line.split()[:2] for line in text.splitlines() if line.startswith(SIGN_IN)] == [[SIGN_IN, "3"]]
    svg = ElementTree.parse(tmp_path / "spike-sqlite.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(svg.findall("{http://www.w3.org/2000/svg}polyline")) == 2 * (len(KINDS) + 1)  # p50, p95 of each

    # The check itself: a save acknowledged with a sequence number the database never stored counts as lost.
    assert count_lost(app_env(url), [(1, 1, 10**9)]) == 1


def test_the_spike_takes_sign_ins_from_the_command_line_and_shows_no_sign_in_row_without_them(monkeypatch):
    chosen = []
    monkeypatch.setattr(bench.run, "run_all", lambda scenario, targets, args, settings: chosen.append(settings))
    bench.run.main(["spike", "--learners", "5", "--sign-ins", "3"])
    bench.run.main(["spike", "--learners", "5"])
    assert [s.sign_ins for s in chosen] == [3, 0]

    kinds = {kind: {"requests": 1, "errors": 0, "p50_ms": 1.0, "p95_ms": 1.0, "max_ms": 1.0} for kind in KINDS}
    report = {"label": "SQLite", "settings": SpikeSettings().__dict__, "gunicorn": "2 sync workers", "kinds": kinds,
              "errors": 0, "lost": 0, "acknowledged": 1, "retried": 0, "learners_done": 1, "elapsed_s": 1,
              "driver_cpu_s": 0.1, "date": "today", "machine": "here"}
    text = format_report(report)
    assert "sign-in" not in text and "then submit (2 sync workers)" in text
