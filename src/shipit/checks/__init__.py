"""Pre-flight checks: the Check protocol, the parallel runner, one module per check."""
