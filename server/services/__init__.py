"""Domain logic. Nothing in this package imports aiohttp or socketio."""
