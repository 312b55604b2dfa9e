"""InfluxDB v2 tenancy: orgs, users, authorizations (tokens), permissions and what they own."""
