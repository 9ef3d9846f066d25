"""The spike benchmark's smoke test: a handful of learners through gunicorn, the report's shape, the lost check.

No timing is asserted (speed is measured by `make bench`); this checks that the benchmark works.
"""
from xml.etree import ElementTree

from bench.common import app_env, count_lost
from bench.spike import KINDS, SpikeSettings, format_report, run_spike


def test_the_spike_reports_each_kind_of_request_and_checks_every_acknowledged_save(tmp_path):
    url = f"sqlite:///{tmp_path}/spike.db"
    report = run_spike("SQLite", url, SpikeSettings(learners=5, ramp=1, saves=2, interval=0.5), tmp_path)

    assert report["errors"] == 0 and report["learners_done"] == 5
    assert report["acknowledged"] == 10 and report["lost"] == 0
    for kind in KINDS:
        expected = 10 if kind == "autosave" else 5
        k = report["kinds"][kind]
        assert k["requests"] == expected and k["errors"] == 0
        assert 0 < k["p50_ms"] <= k["p95_ms"] <= k["max_ms"]
    text = (tmp_path / "spike-sqlite.txt").read_text()
    assert text == format_report(report) + "\n" and "lost answers 0 of 10 acknowledged saves" in text
    svg = ElementTree.parse(tmp_path / "spike-sqlite.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(svg.findall("{http://www.w3.org/2000/svg}polyline")) == 2 * len(KINDS)  # p50 and p95 of each

    # The check itself: a save acknowledged with a sequence number the database never stored counts as lost.
    assert count_lost(app_env(url), [(1, 1, 10**9)]) == 1
