//! The HTTP client shared by the Mesos, Marathon and Flink facts.

use crate::config::Config;

pub fn client(cfg: &Config) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .connect_timeout(cfg.timeout)
        .timeout(cfg.timeout)
        .danger_accept_invalid_certs(cfg.insecure)
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))
}
