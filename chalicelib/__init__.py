"""tickless: the TICK stack without servers."""
