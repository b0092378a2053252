"""client-sim: feltsync's load tester and reference client."""
