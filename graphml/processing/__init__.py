"""Export + processing: Neptune Gremlin CSV -> processed DGL heterograph."""
