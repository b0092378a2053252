"""Socket.IO edge: connection auth, the single event wrapper, rooms, and delivery."""
