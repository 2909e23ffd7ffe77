"""GraphQL BFF: composes ordering and billing REST data for the web front end."""
