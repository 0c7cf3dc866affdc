"""The wall's command socket (ZeroMQ): requests, replies, server, `ctl` client; not the bus."""
