//! Fleet mode against real nodes: each a set of namespaces with systemd as
//! PID 1 and a real sshd (tests/support/fleet_nodes.rs).

mod support;

use std::time::Instant;

use support::fleet_nodes::Fleet;

#[test]
fn harness_nodes_answer_over_ssh_with_their_own_host_names() {
    let started = Instant::now();
    let fleet = Fleet::named(&["Node1", "node2", "node3"]);
    eprintln!("3 nodes up in {:?}", started.elapsed());
    for node in &fleet.nodes {
        let began = Instant::now();
        let mut ssh: Vec<String> = shlex::split(&fleet.ssh_command()).unwrap();
        ssh.extend([format!("root@{}", node.ip), "--".into(), "hostname; echo $0; ls /tmp | wc -l".into()]);
        let output = fleet.client.command(&ssh[0]).args(&ssh[1..]).output().unwrap();
        eprintln!("ssh round trip {:?}", began.elapsed());
        let out = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{out} {}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(out.lines().collect::<Vec<_>>(), [node.hostname.as_str(), "sh", "0"]);
    }
}
