pytest_plugins = ["agyn_common.pytest_plugin"]
