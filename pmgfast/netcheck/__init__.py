"""Network tests of a message: DNSBL, SURBL/URIBL, SPF, DKIM/ARC and DMARC over one resolver."""
