"""The web edge: the answer API, the chat UI, access control, limits and feedback."""
