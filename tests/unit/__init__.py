# A package, so that its modules (test_language.py, conftest.py) do not clash
# with the end-to-end modules of the same name in tests/.
