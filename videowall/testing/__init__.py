"""Helper programs the project runs as subprocesses (e.g. the local RTSP server)."""
