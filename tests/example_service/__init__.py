"""A service package used only by the tests: it shows that a new service is one
module and one config block (``docs/adding-a-service.md`` walks through it)."""
