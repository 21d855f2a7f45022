"""lipread.pipelines."""
