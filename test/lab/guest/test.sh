# Guest side of test/lab/test.sh: build the topology, run the scenarios.
set -eu
bash "$NCLAB_LAB/guest/topology.sh"
exec node --test --test-reporter=spec --test-concurrency=1 --test-timeout=900000 "$@" "$NCLAB_LAB/guest/lab.test.mjs" "$NCLAB_LAB/guest/litmus.test.mjs" "$NCLAB_LAB/guest/litmus-probes.test.mjs" "$NCLAB_LAB/guest/litmus-live.test.mjs" "$NCLAB_LAB/guest/deadman.test.mjs" "$NCLAB_LAB/guest/refresh.test.mjs" "$NCLAB_LAB/guest/ingress-effect.test.mjs" "$NCLAB_LAB/guest/deps.test.mjs" "$NCLAB_LAB/guest/deps-litmus.test.mjs" "$NCLAB_LAB/guest/safety-abort.test.mjs" "$NCLAB_LAB/guest/safety-own.test.mjs" "$NCLAB_LAB/guest/safety-more.test.mjs"
