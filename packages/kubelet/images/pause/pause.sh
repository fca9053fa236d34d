# k8ts/pause: sleeps until told to stop; exits 0 on SIGTERM or SIGINT, as the pause container does.
trap 'exit 0' TERM INT
while :; do
  sleep 3600 &
  wait $!
done
