export const USAGE = `Usage: imdsd <command> [options]

Commands:
  serve           Serve emulated EC2 instances over the IMDS protocol
  identity-cert   Print the certificate that verifies instance identity signatures
  options         Show or set an instance's metadata options through the control API
  help            Show this text

Options for serve:
  --config FILE         YAML config file (env IMDSD_CONFIG)
  --listen HOST:PORT    IMDS listen address; repeat for several (env IMDSD_LISTEN,
                        comma-separated; default 127.0.0.1:1338; IPv6 as [::1]:1338)
  --api-listen HOST:PORT
                        Control API (EC2 Query protocol) listen address (env
                        IMDSD_API_LISTEN; default 127.0.0.1:1339). Administrator keys:
                        config api.credentials, or env IMDSD_API_ACCESS_KEY_ID and
                        IMDSD_API_SECRET_ACCESS_KEY
  --state PATH          State database (env IMDSD_STATE; default
                        $XDG_STATE_HOME/imdsd/state.db; ":memory:" keeps nothing)
  --log-level LEVEL     fatal|error|warn|info|debug|trace|silent (env IMDSD_LOG_LEVEL)
  --require-hop-limit   Refuse to start where hop limits cannot be enforced (the
                        native addon is missing) instead of warning and serving

Options for identity-cert: --config FILE, --state PATH

imdsd options show INSTANCE_ID [--endpoint URL] [--region REGION] [--config FILE]
imdsd options set INSTANCE_ID [--http-tokens optional|required] [--hop-limit 1-64]
    [--http-endpoint enabled|disabled] [--http-protocol-ipv6 enabled|disabled]
    [--instance-metadata-tags enabled|disabled] [--dry-run] [--endpoint URL] ...
  Endpoint: --endpoint, else AWS_ENDPOINT_URL_EC2, else http://127.0.0.1:1339.
  Keys (never flags): IMDSD_API_ACCESS_KEY_ID/IMDSD_API_SECRET_ACCESS_KEY, else
  AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, else the first
  api.credentials of --config FILE.
`;
