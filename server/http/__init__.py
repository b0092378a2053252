"""REST edge: thin routes that parse, authorize, call a service, and return the envelope."""
