"""feltsync: real-time game-sync server."""
