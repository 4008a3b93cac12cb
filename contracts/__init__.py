"""The wire contract of Aodio: events, subjects, options, artifact keys, job state. No I/O."""
