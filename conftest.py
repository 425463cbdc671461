pytest_plugins = ["agyn_testkit.fixtures", "agyn_inprocess.fixtures"]
