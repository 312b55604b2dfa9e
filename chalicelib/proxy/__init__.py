"""influx-proxy (v2.4.7, with 2.5's `exi` hash key and `auth_encrypt`) as a pure domain package.

Config parsing, consistent-hash placement, the credentials cipher and the /write line scanning are kept
free of AWS and HTTP so the proxy surface and its tests share one definition of where a point lands.
"""
