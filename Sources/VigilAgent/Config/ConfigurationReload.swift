/// What a SIGHUP can change in a running agent, and what only a restart can.
///
/// Applied live: each pipeline's model file (a new path, or the same path with a new file) and the
/// trusted keys the new files are verified against. Everything else (device identity, sources,
/// pipeline structure and alarm rules, MQTT, cloud, state directory, alert profile, vitals
/// interval) keeps its running value and is named in `restartRequired`: those settings own
/// connections, files and open alarms whose continuity matters more than a live change (an alarm
/// rule replaced under an active alarm would orphan it).
public struct ReloadPlan: Sendable, Equatable {
    /// Pipelines whose model path changed: pipeline name -> new path.
    public var modelPaths: [String: String] = [:]
    /// The trusted-keys file changed (nil: the new file has none).
    public var trustedKeys: String??
    /// Key paths whose new values wait for a restart, in file order.
    public var restartRequired: [String] = []

    public init() {}
}

extension AgentConfiguration {
    /// The changes from `self` (running) to `new` (just read), split into what a reload applies
    /// and what waits for a restart.
    public func reloadPlan(to new: AgentConfiguration) -> ReloadPlan {
        var plan = ReloadPlan()
        func note(_ key: String, _ changed: Bool) { if changed { plan.restartRequired.append(key) } }
        note("device", device != new.device)
        note("sources", sources != new.sources)
        if pipelines.map(\.name) != new.pipelines.map(\.name) {
            plan.restartRequired.append("pipelines (added, removed or reordered)")
        } else {
            for (i, (a, b)) in zip(pipelines, new.pipelines).enumerated() {
                let at = "pipelines[\(i)]"
                note("\(at).kind", a.kind != b.kind)
                note("\(at).source", a.source != b.source)
                note("\(at).channel", a.channel != b.channel)
                note("\(at).folder", a.folder != b.folder)
                note("\(at).window", a.window != b.window)
                note("\(at).hop", a.hop != b.hop)
                note("\(at).normalize", a.normalize != b.normalize)
                note("\(at).waveform", a.publishWaveform != b.publishWaveform)
                note("\(at).alarms", a.alarms != b.alarms)
                note("\(at).threads", a.threads != b.threads)
                if a.model != b.model {
                    // A pipeline gains or loses its model only at a restart (its tasks are built for it).
                    if let path = b.model, a.model != nil { plan.modelPaths[a.name] = path } else { note("\(at).model", true) }
                }
            }
        }
        note("mqtt", mqtt != new.mqtt)
        note("cloud", cloud != new.cloud)
        note("state_dir", stateDir != new.stateDir)
        if trustedKeys != new.trustedKeys { plan.trustedKeys = .some(new.trustedKeys) }
        note("alerts.profile", alertProfile != new.alertProfile)
        note("vitals_interval", vitalsIntervalSeconds != new.vitalsIntervalSeconds)
        return plan
    }

    /// `self` with the parts of `plan` a reload applies (the configuration the agent then runs).
    public func applying(_ plan: ReloadPlan) -> AgentConfiguration {
        var c = self
        for i in c.pipelines.indices {
            if let path = plan.modelPaths[c.pipelines[i].name] { c.pipelines[i].model = path }
        }
        if let keys = plan.trustedKeys { c.trustedKeys = keys }
        return c
    }
}
