"""The HTTP API: the FastAPI app, its error bodies and the policy and exposure routers."""
