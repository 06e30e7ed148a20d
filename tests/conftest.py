"""tests/ci_example is another project's tree (docs/ci.md), run by
tests/integration/test_ci_example.py in a pytest of its own, not collected here."""

collect_ignore = ["ci_example"]
