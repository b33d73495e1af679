//! `systemd.respawn`: Cluster daemons have one manager (systemd or the scripts).
//!
//! What it looks for, why it matters, how to fix it and the risk of the fix
//! are its `META.explain`, the one text `clusterdoc explain` shows.

use std::borrow::Cow;
use super::{Check, CheckMeta, Explain, Conclusion, Verdict, required};
use crate::facts::processes::ProcessFacts;
use crate::facts::systemd::{ClusterScripts, LiveUnit, Manager, Restart, SystemdFacts, UnitFacts, UnitFileState};
use crate::facts::{Fact, Facts, Need};
use crate::remedy::{Cmd, Remedy};
use crate::report::{Finding, Status};

pub struct SystemdRespawn;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("systemd.respawn"),
    title: Cow::Borrowed("Cluster daemons have one manager (systemd or the scripts)"),
    severity: Status::Fail,
    needs: &[Need::Systemd, Need::Processes],
    tags: texts!["node", "systemd", "mesos"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("The systemd units of the cluster daemons (mesos-master, mesos-slave, mesos-agent, marathon and \
               zookeeper; the list is in checks/data/cluster-units.toml): whether each is enabled (a symlink in a \
               *.wants/ or *.requires/ directory of the unit search path) or active, and its effective Restart= \
               after the drop-ins <unit>.d/*.conf, with the file and line each value comes from. And whether the \
               node is also driven by the Mesos cluster scripts: mesos-start-cluster.sh, mesos-stop-cluster.sh or \
               mesos-daemon.sh present, or the masters / slaves / agents host lists they read. On a live node run \
               by systemd it also reads `systemctl show` (ActiveState, Restart, NRestarts, MainPID) and which \
               processes sit in each unit's cgroup; otherwise it judges the unit files alone and says so.\n\
               Fails when a unit that systemd restarts (Restart= other than no) is enabled or active on a node \
               the scripts also manage, or when systemd has already restarted it; warns when systemd restarts it \
               but no use of the scripts is visible; masked units pass.\n\
               Unit files and drop-ins are read as systemd 252 reads them (src/shared/conf-parser.c config_parse, \
               src/basic/fileio.c read_line): a line ends at LF, CR or NUL (`Restart=no\\rRestart=always` is \
               always); `#` and `;` lines are comments, also inside a backslash continuation; a Restart= value \
               systemd does not know, the empty one included, is ignored and the earlier value stands (\"Failed \
               to parse service restart specifier, ignoring\"); hidden drop-ins (.name.conf) do not apply; an \
               unknown section is skipped with its lines; an alias symlink is followed by name to the first unit \
               file of that name, and the drop-ins of the unit file's name come before those of its aliases. A broken section header, a line that is not UTF-8 or \
               a line of 1 MiB stops the file: systemd refuses a unit file that stops (the check says error, \
               with the file and line), and applies a drop-in up to that line (the evidence says where). Line \
               numbers are the ones systemd's own messages cite. A line ended by a bare CR or a NUL is named in \
               the evidence: older systemd (CentOS 7's 219 reads with fgets()) reads on to the next LF. These rules are checked against a real \
               systemd as PID 1 (`systemctl show -p Restart`) and `systemd-analyze verify` on generated unit \
               trees."),
        why: Cow::Borrowed("The Mesosphere RPM/DEB packages install mesos-master.service and mesos-slave.service with \
              Restart=always and RestartSec=20 (marathon.service: Restart=always, RestartSec=20 before 1.5 and 60 \
              from 1.7) and enable them. The cluster scripts start the same daemons over ssh with nohup and stop \
              them with killall: a second manager that systemd knows nothing about. The two fight: after \
              mesos-stop-cluster.sh the mesos-master and mesos-slave processes reappear 20 seconds later, and \
              agents fail to start on the next cluster restart."),
        fix: Cow::Borrowed("Pick one manager per daemon. To let the cluster scripts manage them: `systemctl disable --now \
              <units>` (or `systemctl mask --now <units>`, which also keeps anything else from starting them), \
              then start the daemons with mesos-start-cluster.sh. To let systemd manage them: stop the daemons the \
              scripts started (mesos-stop-cluster.sh) once, move the host lists (masters, slaves, agents) or the \
              scripts aside so nobody runs them again, and start the units with systemctl."),
        risk: Cow::Borrowed("disable --now and mask --now stop the daemons at once (disruptive: the master or agent is gone \
               until the scripts start it again). Moving the host lists aside is reversible at once (move them \
               back); a package upgrade may reinstall the scripts. `systemd-analyze verify`, printed for a unit \
               file that cannot be read, only reads."),
        references: texts![
            "mesosphere/mesos-deb-packaging systemd/master.systemd and slave.systemd: Restart=always, RestartSec=20",
            "mesosphere/marathon tools/packager/scripts/marathon.systemd.service: Restart=always, RestartSec=60",
            "systemd.unit(5): unit file load path, drop-in directories; systemd.service(5): Restart=",
            "systemd.syntax(7); systemd v252 src/shared/conf-parser.c (config_parse, parse_line, \
             DEFINE_CONFIG_PARSE_ENUM), src/basic/fileio.c (read_line_full), src/core/load-dropin.c, src/core/load-fragment.c \
             (unit_load_fragment, merge_by_names), src/shared/dropin.c, src/basic/unit-file.c (unit_ids_map_get)",
            "systemctl(1): is-enabled, show (NRestarts exists from systemd 235; CentOS 7 ships 219)",
            "Apache Mesos, Deploy Scripts: https://mesos.apache.org/documentation/latest/deploy-scripts/",
        ],
    },
};

impl Check for SystemdRespawn {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let systemd = required(&facts.systemd, "systemd facts")?;
        Ok(judge(systemd, facts.processes.as_ref()))
    }
}

/// What one unit means for the node.
enum Assessment {
    /// Nothing to report: not installed, masked, or systemd does not restart it.
    Quiet(String),
    /// systemd restarts it and a second manager is visible, or it already respawned.
    Fights(Vec<String>),
    /// systemd restarts it; no second manager is visible.
    Restarts(Vec<String>),
    /// Its files cannot be read, so nobody can tell.
    Unknown(String),
}

fn judge(systemd: &SystemdFacts, processes: Option<&Fact<ProcessFacts>>) -> Conclusion {
    let table = processes.and_then(Fact::value);
    let scripts_in_use = systemd.scripts.in_use();
    let mut fights: Vec<(&UnitFacts, Vec<String>)> = Vec::new();
    let mut restarts: Vec<(&UnitFacts, Vec<String>)> = Vec::new();
    let mut findings = Vec::new();
    let mut quiet = Vec::new();
    for unit in &systemd.units {
        match assess(unit, table, scripts_in_use) {
            Assessment::Quiet(summary) => quiet.push(format!("{}: {summary}", unit.name)),
            Assessment::Fights(evidence) => fights.push((unit, evidence)),
            Assessment::Restarts(evidence) => restarts.push((unit, evidence)),
            Assessment::Unknown(error) => findings.push(unreadable(unit, &error)),
        }
    }
    let context = context_lines(systemd, processes);
    if !fights.is_empty() {
        findings.insert(0, fighting(&fights, &systemd.scripts, &context));
    }
    if !restarts.is_empty() {
        findings.push(restarting(&restarts, &context));
    }
    let mut note = format!("{} cluster units looked at", systemd.units.len());
    if !quiet.is_empty() {
        note.push_str(&format!(" ({})", quiet.join("; ")));
    }
    note.push_str(&format!("; {}", context.join("; ")));
    Conclusion::findings(findings, note)
}

fn assess(unit: &UnitFacts, table: Option<&ProcessFacts>, scripts_in_use: bool) -> Assessment {
    if let Some(error) = &unit.error {
        return Assessment::Unknown(error.clone());
    }
    if unit.state.is_masked() {
        return Assessment::Quiet("masked".into());
    }
    let live = unit.live.as_ref().and_then(Fact::value);
    if unit.state == UnitFileState::NotFound && live.is_none_or(|l| l.unit_file_state == UnitFileState::NotFound) {
        return Assessment::Quiet("not installed".into());
    }
    let policy = live.map_or(unit.restart_policy(), |l| l.restart);
    let at_boot =
        matches!(unit.state, UnitFileState::Enabled | UnitFileState::EnabledRuntime) || !unit.pulled_in_by.is_empty();
    let up = live.is_some_and(|l| l.active_state.is_up());
    let respawned = live.is_some_and(has_respawned);
    let in_cgroup = table.is_some_and(|t| t.in_unit(&unit.name).next().is_some());
    let restarted_by_systemd = policy != Restart::No && (at_boot || up);
    let evidence = || unit_evidence(unit, table);
    if (restarted_by_systemd && scripts_in_use) || respawned || (in_cgroup && scripts_in_use) {
        Assessment::Fights(evidence())
    } else if restarted_by_systemd {
        Assessment::Restarts(evidence())
    } else {
        Assessment::Quiet(format!("{}, Restart={policy}{}", unit.state, restart_origin(unit)))
    }
}

/// systemd counted restarts, or waits out `RestartSec=` right now.
fn has_respawned(live: &LiveUnit) -> bool {
    live.n_restarts.unwrap_or(0) > 0 || live.sub_state == "auto-restart"
}

fn restart_origin(unit: &UnitFacts) -> String {
    match &unit.restart {
        Some(r) => format!(" ({})", r.origin),
        None => " (not set: the default)".into(),
    }
}

/// What the unit files, `systemctl show` and the process table say about one unit.
fn unit_evidence(unit: &UnitFacts, table: Option<&ProcessFacts>) -> Vec<String> {
    let name = &unit.name;
    let file = unit.file.as_deref().unwrap_or("no unit file");
    let target = unit.target.as_ref().map(|t| format!(" -> {t}")).unwrap_or_default();
    let mut lines = vec![format!("{name}: {file}{target} ({})", unit.state)];
    if !unit.pulled_in_by.is_empty() {
        lines.push(format!("{name}: started at boot by {}", unit.pulled_in_by.join(", ")));
    }
    lines.push(format!("{name}: Restart={}{}", unit.restart_policy(), restart_origin(unit)));
    if let Some(sec) = &unit.restart_sec {
        lines.push(format!("{name}: RestartSec={} ({})", sec.value, sec.origin));
    }
    if !unit.drop_ins.is_empty() {
        lines.push(format!("{name}: drop-ins applied: {}", unit.drop_ins.join(", ")));
    }
    lines.extend(unit.warnings.iter().map(|w| format!("{name}: {w}")));
    if let Some(live) = unit.live.as_ref().and_then(Fact::value) {
        lines.push(format!("{name}: systemctl show: {}", show_line(live)));
    }
    for p in table.into_iter().flat_map(|t| t.in_unit(name)) {
        lines.push(format!("{name}: pid {} ({}) runs in the unit's cgroup", p.pid, p.name));
    }
    lines
}

fn show_line(live: &LiveUnit) -> String {
    let restarts = live.n_restarts.map_or("unknown (systemd < 235)".to_string(), |n| n.to_string());
    let pid = live.main_pid.map_or("none".to_string(), |p| p.to_string());
    format!(
        "ActiveState={} SubState={} Restart={} NRestarts={restarts} MainPID={pid}",
        live.active_state, live.sub_state, live.restart
    )
}

/// Where the facts came from and what that leaves out, for every finding and the note.
fn context_lines(systemd: &SystemdFacts, processes: Option<&Fact<ProcessFacts>>) -> Vec<String> {
    let mut lines = Vec::new();
    lines.push(match &systemd.manager {
        Manager::Running => "live: systemctl show asked about each unit".to_string(),
        Manager::NotRunning { pid1 } => {
            format!("judged from unit files only: systemd is not PID 1 here (PID 1 is {pid1})")
        }
        Manager::FilesOnly => "judged from unit files only (--root: no live probes)".to_string(),
    });
    for unit in &systemd.units {
        if let Some(problem) = unit.live.as_ref().and_then(Fact::problem) {
            lines.push(format!("{}: systemctl show failed, judged from its files: {problem}", unit.name));
        }
    }
    if let Some(problem) = processes.and_then(Fact::problem)
        && systemd.manager == Manager::Running
    {
        lines.push(format!("process table not read: {problem}"));
    }
    let scripts = &systemd.scripts;
    if !scripts.scripts.is_empty() {
        lines.push(format!("cluster scripts present: {}", scripts.scripts.join(", ")));
    }
    for deploy in &scripts.deploy_files {
        lines.push(match (&deploy.error, deploy.hosts.len()) {
            (Some(e), _) => format!("deploy file {} exists but cannot be read: {e}", deploy.path),
            (None, 0) => format!("deploy file {} lists no hosts", deploy.path),
            (None, n) => format!("deploy file {} lists {n} hosts: {}", deploy.path, deploy.hosts.join(", ")),
        });
    }
    if !scripts.in_use() {
        lines.push("no Mesos cluster scripts or deploy files found".to_string());
    }
    lines
}

fn names(units: &[(&UnitFacts, Vec<String>)]) -> Vec<String> {
    units.iter().map(|(u, _)| u.name.clone()).collect()
}

fn finding(status: Status, units: &[(&UnitFacts, Vec<String>)], message: String, context: &[String]) -> Finding {
    let mut f = Finding::new(status, format!("units {}", names(units).join(", ")), message);
    for line in units.iter().flat_map(|(_, evidence)| evidence).chain(context) {
        f = f.evidence(line.clone());
    }
    f
}

fn fighting(units: &[(&UnitFacts, Vec<String>)], scripts: &ClusterScripts, context: &[String]) -> Finding {
    let list = names(units).join(", ");
    let message = if scripts.in_use() {
        format!(
            "systemd restarts {list} on a node the Mesos cluster scripts also manage: what the scripts stop \
             (killall) systemd starts again"
        )
    } else {
        format!(
            "systemd has restarted {list}: the daemons stopped and came back; if killall or the cluster scripts \
             stopped them, two managers are fighting"
        )
    };
    let mut f = finding(Status::Fail, units, message, context);
    for remedy in one_manager_remedies(&names(units), scripts) {
        f = f.fix(remedy);
    }
    f
}

fn restarting(units: &[(&UnitFacts, Vec<String>)], context: &[String]) -> Finding {
    let message = format!(
        "systemd restarts {} (Restart= other than no): fine while systemd is their only manager, but stopping \
         them with the cluster scripts or killall will not stick",
        names(units).join(", ")
    );
    finding(Status::Warn, units, message, context)
}

/// Either hand the daemons to the scripts (disable or mask the units), or
/// keep systemd and take the scripts out of use.
fn one_manager_remedies(units: &[String], scripts: &ClusterScripts) -> Vec<Remedy> {
    let with_units = |cmd: Cmd| units.iter().fold(cmd, |c, u| c.value(u));
    let mut remedies = vec![
        with_units(Cmd::new("systemctl").word("disable").word("--now")).disruptive().with_note(
            "stops the daemons now and keeps systemd from starting them at boot; then start them with the \
             cluster scripts (mesos-start-cluster.sh)",
        ),
        with_units(Cmd::new("systemctl").word("mask").word("--now")).disruptive().with_note(
            "instead of disable: also keeps dependencies and package scripts from starting the units, until \
             `systemctl unmask`",
        ),
    ];
    // The scripts read their host lists; without them they do nothing.
    let aside: Vec<&str> = if scripts.deploy_files.is_empty() {
        scripts.scripts.iter().map(String::as_str).collect()
    } else {
        scripts.deploy_files.iter().map(|d| d.path.as_str()).collect()
    };
    for path in aside {
        remedies.push(Cmd::new("mv").word("--").value(path).value(format!("{path}.disabled")).safe().with_note(
            "instead, to keep systemd as the only manager: first stop the daemons the scripts started \
                 (mesos-stop-cluster.sh), then start the units with systemctl; a package upgrade may bring \
                 the scripts back",
        ));
    }
    remedies
}

fn unreadable(unit: &UnitFacts, error: &str) -> Finding {
    let mut f = Finding::new(
        Status::Error,
        format!("unit {}", unit.name),
        format!("cannot tell whether systemd restarts {}: {error}", unit.name),
    );
    if let Some(file) = &unit.file {
        f = f.evidence(format!("{}: {file} ({})", unit.name, unit.state)).fix(
            Cmd::new("systemd-analyze")
                .word("verify")
                .value(unit.target.as_deref().unwrap_or(file))
                .safe()
                .with_note("shows what systemd makes of the unit file"),
        );
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::processes::ProcessInfo;
    use crate::facts::systemd::{ActiveState, DeployFile, FileLine, InstallSection, Sourced};

    fn unit(name: &str, state: UnitFileState, restart: Restart) -> UnitFacts {
        let file = format!("/usr/lib/systemd/system/{name}");
        UnitFacts {
            name: name.into(),
            file: Some(file.clone()),
            target: None,
            state,
            pulled_in_by: match state {
                UnitFileState::Enabled => vec![format!("/etc/systemd/system/multi-user.target.wants/{name}")],
                _ => Vec::new(),
            },
            drop_ins: Vec::new(),
            restart: Some(Sourced { value: restart, text: restart.to_string(), origin: FileLine { file, line: 7 } }),
            restart_sec: None,
            install: InstallSection::default(),
            warnings: Vec::new(),
            error: None,
            live: None,
        }
    }

    fn facts(units: Vec<UnitFacts>, scripts: ClusterScripts, manager: Manager) -> SystemdFacts {
        SystemdFacts { search_path: vec!["/usr/lib/systemd/system".into()], units, scripts, manager }
    }

    fn deploy() -> ClusterScripts {
        ClusterScripts {
            scripts: Vec::new(),
            deploy_files: vec![DeployFile {
                path: "/usr/etc/mesos/masters".into(),
                hosts: vec!["m1".into()],
                error: None,
            }],
        }
    }

    fn live(active: ActiveState, sub: &str, restarts: Option<u32>) -> Option<Fact<LiveUnit>> {
        Some(Fact::observed(LiveUnit {
            active_state: active,
            sub_state: sub.into(),
            unit_file_state: UnitFileState::Disabled,
            restart: Restart::Always,
            n_restarts: restarts,
            main_pid: Some(42),
        }))
    }

    #[test]
    fn a_respawn_counted_by_systemd_fails_even_without_scripts() {
        let mut u = unit("mesos-slave.service", UnitFileState::Disabled, Restart::Always);
        u.live = live(ActiveState::Active, "running", Some(3));
        let j = judge(&facts(vec![u], ClusterScripts::default(), Manager::Running), None);
        assert_eq!(j.status(), Status::Fail);
        let evidence = j.findings[0].evidence.join("\n");
        assert!(evidence.contains("NRestarts=3 MainPID=42"), "{evidence}");
        assert!(j.findings[0].message.contains("has restarted"));
        // Nothing to move aside: only the systemctl remedies.
        assert_eq!(j.findings[0].remediation.len(), 2);
    }

    #[test]
    fn a_systemd_daemon_in_its_cgroup_with_scripts_in_use_fails() {
        let mut u = unit("marathon.service", UnitFileState::Disabled, Restart::No);
        u.live = live(ActiveState::Active, "running", None);
        if let Some(Fact::Observed { value }) = &mut u.live {
            value.restart = Restart::No;
        }
        let table = ProcessFacts {
            processes: vec![ProcessInfo {
                pid: 42,
                parent_pid: Some(1),
                name: "java".into(),
                cmdline: vec!["java".into(), "mesosphere.marathon.Main".into()],
                start_time: 1,
                unit: Some("marathon.service".into()),
            }],
        };
        let j = judge(&facts(vec![u], deploy(), Manager::Running), Some(&Fact::observed(table)));
        assert_eq!(j.status(), Status::Fail);
        let evidence = j.findings[0].evidence.join("\n");
        assert!(evidence.contains("pid 42 (java) runs in the unit's cgroup"), "{evidence}");
        assert!(evidence.contains("NRestarts=unknown (systemd < 235)"), "{evidence}");
        assert!(
            j.findings[0]
                .remediation
                .iter()
                .any(|r| r.command == "mv -- /usr/etc/mesos/masters /usr/etc/mesos/masters.disabled")
        );
    }

    #[test]
    fn waiting_to_restart_counts_as_a_respawn() {
        let mut u = unit("mesos-master.service", UnitFileState::Disabled, Restart::Always);
        u.live = live(ActiveState::Activating, "auto-restart", None);
        assert_eq!(judge(&facts(vec![u], ClusterScripts::default(), Manager::Running), None).status(), Status::Fail);
    }

    #[test]
    fn unit_names_are_quoted_in_commands() {
        let remedies = one_manager_remedies(&["evil;rm -rf /.service".into()], &ClusterScripts::default());
        assert_eq!(remedies[0].command, "systemctl disable --now 'evil;rm -rf /.service'");
    }

    #[test]
    fn a_failed_systemctl_show_falls_back_to_the_files_and_says_so() {
        let mut u = unit("mesos-master.service", UnitFileState::Enabled, Restart::Always);
        u.live = Some(Fact::failed("systemctl show mesos-master.service: no answer within 3s"));
        let j = judge(&facts(vec![u], deploy(), Manager::Running), None);
        assert_eq!(j.status(), Status::Fail);
        let evidence = j.findings[0].evidence.join("\n");
        assert!(
            evidence.contains("mesos-master.service: systemctl show failed, judged from its files: systemctl show"),
            "{evidence}"
        );
    }

    #[test]
    fn a_failed_process_table_is_noted_on_a_live_node() {
        let u = unit("mesos-master.service", UnitFileState::Disabled, Restart::Always);
        let j = judge(&facts(vec![u], ClusterScripts::default(), Manager::Running), Some(&Fact::failed("boom")));
        assert_eq!(j.status(), Status::Pass);
        assert!(j.note.unwrap().contains("process table not read: boom"));
    }
}
