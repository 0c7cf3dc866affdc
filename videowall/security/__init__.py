"""Who may talk to a wall or a state server: CURVE keys, the allowed-key folder, roles."""
