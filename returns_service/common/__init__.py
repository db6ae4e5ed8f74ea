"""Small building blocks every layer uses: the clock, money in minor units, domain errors,
metric counters and the repeat loop of long-running commands. Imports nothing of the domains."""
