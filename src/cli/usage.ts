export const USAGE = `Usage: imdsd <command> [options]

Commands:
  serve           Serve emulated EC2 instances over the IMDS protocol
  identity-cert   Print the certificate that verifies instance identity signatures
  help            Show this text

Options for serve:
  --config FILE         YAML config file (env IMDSD_CONFIG)
  --listen HOST:PORT    IMDS listen address; repeat for several (env IMDSD_LISTEN,
                        comma-separated; default 127.0.0.1:1338; IPv6 as [::1]:1338)
  --state PATH          State database (env IMDSD_STATE; default
                        $XDG_STATE_HOME/imdsd/state.db; ":memory:" keeps nothing)
  --log-level LEVEL     fatal|error|warn|info|debug|trace|silent (env IMDSD_LOG_LEVEL)
  --require-hop-limit   Refuse to start where hop limits cannot be enforced (the
                        native addon is missing) instead of warning and serving

Options for identity-cert: --config FILE, --state PATH
`;
