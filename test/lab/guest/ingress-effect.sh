# Guest side: only the DIRECTION / MEASURE_EFFECT scenarios (test/lab/run.sh test/lab/guest/ingress-effect.sh).
set -eu
bash "$NCLAB_LAB/guest/topology.sh"
exec node --test --test-reporter=spec --test-concurrency=1 --test-timeout=900000 "$@" "$NCLAB_LAB/guest/ingress-effect.test.mjs"
