"""Commands that are not DVC stages: evaluate, synth, score-demo, bench."""
