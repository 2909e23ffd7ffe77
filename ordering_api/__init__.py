"""ordering_api: the owner of orders and of the change feed billing pulls."""
