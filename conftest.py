pytest_plugins = ["agyn_testkit.fixtures"]
