"""The `lipread` command line: thin wrappers over the library."""
