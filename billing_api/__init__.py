"""billing_api: invoices for confirmed orders, from a local copy pulled from ordering."""
