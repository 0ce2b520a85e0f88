"""Steps above 2**53 are not step counts (a float cannot hold them exactly): the reader
drops such a record with a Problem and keeps every record after it."""
from runpages import schema


def test_a_step_past_two_to_the_53_is_reported_and_later_steps_stay(hostile_site):
    def mutate(bad, runs):
        with open(bad / schema.METRICS_FILE, "a") as f:
            f.write('{"_step": 9007199254740999, "train/loss": 1}\n')
            f.write('{"_step": 1e300, "train/loss": 1}\n')
            f.write('{"_step": 100000000000000000000000000000, "train/loss": 1}\n')
            f.write('{"_step": 60, "train/loss": 0.5}\n')
    site = hostile_site(mutate)
    found = site.survived("_step above 2**53 (not exact as a number); record skipped")
    assert sum("above 2**53" in p for p in found) == 3      # 2**53+7, 1e300, 30 digits
    from runpages.sitegen.reader import read_runs

    projects, _ = read_runs([site.runs])
    run = next(r for p in projects for r in p.runs if r.id.endswith("bad-cccccc"))
    assert run.metrics["_step"].max() == 60
