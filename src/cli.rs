//! The command line: subcommands, flags and their environment variables.
//! What they mean is decided in `config` (the settings) and `app` (the flow).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{Settings, StringOrList, parse_duration};
use crate::report::human::Detail;
use crate::target::{NameCheck, NodeProbe, Phase, Role};

/// A doctor for Mesos / Marathon / ZooKeeper / Flink clusters: finds the real
/// pitfalls and prints the evidence and the commands that fix them.
#[derive(Parser, Debug)]
#[command(name = "clusterdoc", version, args_conflicts_with_subcommands = true, after_long_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// Shown by `--help` and in the man page.
const EXAMPLES: &str = "\
Examples:
  clusterdoc --mesos mesos-a:5050 --marathon http://mesos-a:8080 --zk zk://zk-a:2181,zk-b:2181,zk-c:2181/marathon
  clusterdoc --only zk. --format json
  clusterdoc collect -o incident.json && clusterdoc check --from incident.json
  clusterdoc check --from incident.json --format html -o incident.html
  clusterdoc check --app flink2.json --only marathon.      # before POSTing an app
  clusterdoc check --waivers ci/waivers.toml --baseline ci/baseline.json --format junit -o clusterdoc.xml
  clusterdoc check --phase postflight --wait 5m --deadline 6m

Fleet mode (every node over the system's ssh, one run):
  clusterdoc check --nodes @/usr/etc/mesos/masters,@/usr/etc/mesos/slaves --mesos mesos-a:5050
  clusterdoc check --nodes discover --mesos mesos-a:5050 --zk zk://zk-a:2181/marathon
  clusterdoc collect --nodes mesos-a,mesos-b,ops@agent-1:2222 --ssh 'ssh -J bastion' --fanout 64 -o fleet.json
  clusterdoc check --from fleet.json

  Each node runs `clusterdoc collect --node` (its own, or this binary pushed into a private
  mktemp -d directory that is removed however the run ends); node checks judge every node,
  the fleet.* checks compare them, net.reachability is probed from every node. Nodes not
  reached are listed with ssh's own words and their node checks are errors, never passes.";

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run checks (the default command)
    Check(RunArgs),
    /// List every check: id, title, default severity, tags, source
    List {
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
        #[command(flatten)]
        packs: PackArgs,
    },
    /// What a check looks for, why it matters and how to fix it
    Explain {
        /// A check id, e.g. hostname.case
        id: String,
        #[command(flatten)]
        packs: PackArgs,
    },
    /// Gather facts only and write them as a JSON snapshot (secrets redacted)
    Collect(CollectArgs),
    /// Serve /metrics, /healthz, /report and /snapshot over HTTP, running the checks at most once an interval
    Serve(ServeArgs),
    /// Work with a waivers file (--waivers)
    Waivers {
        #[command(subcommand)]
        action: WaiversAction,
    },
    /// Print shell completions
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff)
    Man,
}

#[derive(Subcommand, Debug, Clone)]
pub enum WaiversAction {
    /// Check a waivers file alone (exit 0, or 3 naming the waiver and field) and list expired waivers
    Lint {
        /// The waivers file (TOML, [[waiver]] tables)
        file: PathBuf,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    Human,
    Json,
    Junit,
    Tap,
    Nagios,
    Prometheus,
    /// One self-contained page: filters, a check matrix, every finding with its fixes
    Html,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// Where `list` and `explain` find check packs, as `check` does.
#[derive(Args, Debug, Clone, Default)]
pub struct PackArgs {
    /// TOML file whose checks_dir names pack directories
    #[arg(long, env = "CLUSTERDOC_CONFIG", hide_env_values = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Extra check packs
    #[arg(long, value_name = "DIR")]
    pub checks_dir: Vec<PathBuf>,
}

/// `collect`: the run's settings, and whether to gather this node only.
#[derive(Args, Debug, Clone, Default)]
pub struct CollectArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Gather only this node's facts (what `collect --nodes` runs on each node); fleet settings are ignored
    #[arg(long)]
    pub node: bool,
    /// With --node: an endpoint to probe from this node, if its roles need it (a fleet run passes the cluster's)
    #[arg(long = "probe", value_name = "ROLE=HOST:PORT", requires = "node")]
    pub probes: Vec<NodeProbe>,
    /// With --node: a peer's name to resolve, and the address it registered with (a fleet run passes the cluster's)
    #[arg(long = "resolve", value_name = "NAME=ADDRESS", requires = "node")]
    pub names: Vec<NameCheck>,
    /// With --node: a built-in pack check that looks at a machine, to gather its probe here
    #[arg(long = "pack-check", value_name = "ID", requires = "node")]
    pub pack_checks: Vec<String>,
}

/// `serve`: the run's settings, and how to serve its results.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Address to listen on; beyond loopback it needs --token-file or --basic-auth-file
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9847")]
    pub listen: SocketAddr,
    /// Run the checks at most once per this, however many requests arrive
    #[arg(long, value_name = "DUR", default_value = "60s", value_parser = parse_duration)]
    pub interval: Duration,
    /// Serve HTTPS with this certificate chain (PEM)
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM)
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// File holding the token clients must send (Authorization: Bearer TOKEN)
    #[arg(long, value_name = "FILE", conflicts_with = "basic_auth_file")]
    pub token_file: Option<PathBuf>,
    /// File holding USER:PASSWORD clients must send with basic authentication
    #[arg(long, value_name = "FILE")]
    pub basic_auth_file: Option<PathBuf>,
    /// Serve beyond loopback without credentials: anyone who can connect reads the reports
    #[arg(long, conflicts_with_all = ["token_file", "basic_auth_file"])]
    pub allow_unauthenticated: bool,
    /// Connections served at once; more wait to be accepted
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub max_connections: u32,
}

/// Flags of `check` that `serve` does not take, and what to do instead.
const NOT_SERVED: [(&str, &str); 5] = [
    ("format", "a request chooses it, with ?format=FMT or an Accept header"),
    ("wait", "the server runs the checks again every --interval"),
    ("output", "the server writes no file; GET /report"),
    ("script", "the server writes no file; GET /report and build the plan from it"),
    ("color", "served reports are never coloured"),
];

/// Why the command line of `serve` is wrong although it parsed: it names a
/// flag of `check` that has no meaning for a server.
pub fn serve_misuse(matches: &clap::ArgMatches) -> Option<String> {
    let serve = matches.subcommand_matches("serve")?;
    let (flag, instead) =
        NOT_SERVED.iter().find(|(id, _)| serve.value_source(id) == Some(clap::parser::ValueSource::CommandLine))?;
    Some(format!("serve does not take --{flag}: {instead}"))
}

#[derive(Args, Debug, Clone, Default)]
pub struct RunArgs {
    /// TOML file with any of the target settings
    #[arg(long, env = "CLUSTERDOC_CONFIG", hide_env_values = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Mesos master(s): host:port or http(s)://host:port [default: http://127.0.0.1:5050]
    #[arg(long, env = "MESOS_MASTER", hide_env_values = true, value_name = "URL", value_delimiter = ',')]
    pub mesos: Vec<String>,
    /// Marathon [default: http://127.0.0.1:8080]
    #[arg(long, env = "MARATHON_URL", hide_env_values = true, value_name = "URL")]
    pub marathon: Option<String>,
    /// Marathon's ZooKeeper URL zk://h1:2181,h2:2181/marathon [default: zk://127.0.0.1:2181/marathon]
    #[arg(long, env = "MARATHON_ZK", hide_env_values = true, value_name = "URL")]
    pub zk: Option<String>,
    /// Flink JobManager web/REST endpoint(s)
    #[arg(long, env = "FLINK_URL", hide_env_values = true, value_name = "URL", value_delimiter = ',')]
    pub flink: Vec<String>,
    /// Judge the node file system at DIR instead of / (live probes and implicit targets off)
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// This node's roles [default: detected]
    #[arg(long, value_name = "ROLE", value_parser = role_parser())]
    pub role: Vec<Role>,
    /// The Marathon version being deployed [default: the running Marathon's]
    #[arg(long, value_name = "V")]
    pub expect_marathon_version: Option<String>,
    /// The Flink version in use [default: from Flink /config, else unknown]
    #[arg(long, value_name = "V")]
    pub expect_flink_version: Option<String>,
    /// Run only these checks; `zk.` or `zk*` selects a family
    #[arg(long, value_name = "ID,..", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Leave out these checks; `zk.` or `zk*` selects a family
    #[arg(long, value_name = "ID,..", value_delimiter = ',')]
    pub skip: Vec<String>,
    /// Report format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report (or snapshot) to FILE instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Colour: auto honours NO_COLOR and whether stdout is a terminal
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Time allowed for each network operation (500ms, 3s) [default: 3s]
    #[arg(long, value_name = "DUR")]
    pub timeout: Option<String>,
    /// The whole run never takes longer than this [default: 30s]
    #[arg(long, value_name = "DUR")]
    pub deadline: Option<String>,
    /// Also write the remediation plan as a reviewable shell script
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// Run the checks against a snapshot written by `collect`
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// Extra check packs
    #[arg(long, value_name = "DIR")]
    pub checks_dir: Vec<PathBuf>,
    /// CA certificate (PEM) to trust for https endpoints
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Do not verify TLS certificates
    #[arg(long)]
    pub insecure: bool,
    /// More detail (passes, timings)
    #[arg(short, long, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Less detail (problems and the summary only)
    #[arg(short, long)]
    pub quiet: bool,
    /// Nodes to reach over ssh: host, user@host:port, comma lists, @FILE (one host a line), discover (the leading master's agents and the named masters, ZooKeeper servers and Marathon)
    #[arg(long, env = "CLUSTERDOC_NODES", hide_env_values = true, value_name = "NODES", value_delimiter = ',')]
    pub nodes: Vec<String>,
    /// The command that reaches a node, split like a shell word list [default: ssh]
    #[arg(long, env = "CLUSTERDOC_SSH", hide_env_values = true, value_name = "CMD")]
    pub ssh: Option<String>,
    /// Nodes worked on at once [default: 32]
    #[arg(long, value_name = "N")]
    pub fanout: Option<usize>,
    /// The clusterdoc run on each node: auto, push, or its path there [default: auto]
    #[arg(long, value_name = "auto|push|PATH")]
    pub remote_bin: Option<String>,
    /// Pull each node's facts from the clusterdoc serve it runs instead of ssh: http://{host}:9847
    #[arg(long, value_name = "URL")]
    pub pull: Option<String>,
    /// TOML file of accepted problems, each with reason, owner and expiry (see `clusterdoc waivers lint`)
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// An earlier JSON report: findings it has are known and do not fail the run, new ones do
    #[arg(long, value_name = "REPORT.json")]
    pub baseline: Option<PathBuf>,
    /// Judge as before a deploy (ports free, no leader yet) or after it (ports served by their daemons, leaders elected)
    #[arg(long, value_enum)]
    pub phase: Option<Phase>,
    /// Rerun the checks that did not pass until they pass or DUR runs out (within --deadline), e.g. 5m
    #[arg(long, value_name = "DUR")]
    pub wait: Option<String>,
    /// A Marathon app or group JSON as it would be POSTed: judge the cluster as if it were deployed (repeatable)
    #[arg(long = "app", value_name = "FILE")]
    pub apps: Vec<PathBuf>,
}

impl RunArgs {
    /// How much the human report shows (`-q`, `-v`).
    pub fn detail(&self) -> Detail {
        match (self.quiet, self.verbose) {
            (true, _) => Detail::Quiet,
            (false, 0) => Detail::Normal,
            _ => Detail::Verbose,
        }
    }

    /// The command line's layer of settings (`config` merges it over the file's).
    pub fn settings(&self) -> Settings {
        let list = |items: &[String]| (!items.is_empty()).then(|| StringOrList::Many(items.to_vec()));
        Settings {
            mesos: list(&self.mesos),
            marathon: self.marathon.clone(),
            zk: self.zk.clone(),
            flink: list(&self.flink),
            root: self.root.clone(),
            role: (!self.role.is_empty()).then(|| self.role.clone()),
            expect_marathon_version: self.expect_marathon_version.clone(),
            expect_flink_version: self.expect_flink_version.clone(),
            timeout: self.timeout.clone(),
            deadline: self.deadline.clone(),
            ca_cert: self.ca_cert.clone(),
            insecure: self.insecure.then_some(true),
            checks_dir: (!self.checks_dir.is_empty()).then(|| self.checks_dir.clone()),
            nodes: list(&self.nodes),
            ssh: self.ssh.clone(),
            fanout: self.fanout,
            remote_bin: self.remote_bin.clone(),
            pull: self.pull.clone(),
            waivers: self.waivers.clone(),
            baseline: self.baseline.clone(),
            phase: self.phase,
            wait: self.wait.clone(),
            apps: (!self.apps.is_empty()).then(|| self.apps.clone()),
        }
    }
}

/// `--role`: the names of [`Role`], listed in `--help`.
fn role_parser() -> impl TypedValueParser<Value = Role> {
    PossibleValuesParser::new(Role::ALL.map(Role::as_str)).try_map(|name| name.parse::<Role>())
}
