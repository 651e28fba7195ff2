// A release-built driver for the vitals throughput benchmark, compiled by Tools/vitals/bench.sh
import Foundation
// straight from the SensorLink and VigilSensors sources (no other dependency to build).
import VigilSensors

let args = CommandLine.arguments
guard args.count >= 2 else {
    print("usage: vitals-bench ECG.npy [RATE_HZ] [CHANNELS] [SECONDS]")
    exit(64)
}
let rate = args.count > 2 ? Double(args[2]) ?? 360 : 360
let channels = args.count > 3 ? Int(args[3]) ?? 8 : 8
let seconds = args.count > 4 ? Double(args[4]) ?? 600 : 600
do {
    let rec = try NPYReader.read(args[1], sampleRate: rate)
    let r = try ThroughputBenchmark.run(ecg: rec.channels[0].samples, rate: rate, channels: channels, sampleRate: 500, seconds: seconds)
    print(r.json)
} catch {
    print("vitals-bench: \(error)")
    exit(2)
}
