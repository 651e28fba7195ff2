// Links SensorLink into a Cortex-M4 image the way the sensor-bridge firmware uses it, so that
// check-embedded.sh can report what the codec costs in flash and RAM after --gc-sections.
// Built as Embedded Swift with -DSENSORLINK_PROBE_DECODER for the variant that also decodes.
import SensorLink

nonisolated(unsafe) var encoder = FrameEncoder()

/// The firmware's hot path: a waveform block from a sample buffer, into the UART buffer.
@_cdecl("probe_encode_waveform")
public func probeEncodeWaveform(_ out: UnsafeMutablePointer<UInt8>, _ capacity: Int,
                                _ samples: UnsafePointer<Int32>, _ count: Int, _ time: UInt64) -> Int {
    var span = UnsafeMutableBufferPointer(start: out, count: capacity).mutableSpan
    return (try? encoder.encodeWaveform(channel: 0, format: .int32, rate: SampleRate(hertz: 500), firstSampleIndex: time / 2000,
                                        samples: UnsafeBufferPointer(start: samples, count: count), timestamp: time,
                                        into: &span)) ?? -1
}

/// Status and hello, sent now and then.
@_cdecl("probe_encode_status")
public func probeEncodeStatus(_ out: UnsafeMutablePointer<UInt8>, _ capacity: Int, _ leadOff: UInt16, _ time: UInt64) -> Int {
    var span = UnsafeMutableBufferPointer(start: out, count: capacity).mutableSpan
    let status = DeviceStatus(leadOff: LeadOff(rawValue: leadOff), batteryPercent: 90, power: .externalPower,
                              droppedSamples: 0, faults: [])
    return (try? encoder.encode(.status(status), timestamp: time, into: &span)) ?? -1
}

@_cdecl("probe_encode_hello")
public func probeEncodeHello(_ out: UnsafeMutablePointer<UInt8>, _ capacity: Int) -> Int {
    var span = UnsafeMutableBufferPointer(start: out, count: capacity).mutableSpan
    let ecg = ChannelInfo(id: 0, kind: .ecg, format: .int32, unit: .millivolt, rate: SampleRate(hertz: 500),
                          scale: 4.8e-5, offset: 0)
    let hello = Hello(firmware: FirmwareVersion(1, 0, 0), boot: true, channels: [ecg])
    return (try? encoder.encode(.hello(hello), timestamp: 0, into: &span)) ?? -1
}

#if SENSORLINK_PROBE_DECODER
nonisolated(unsafe) var decoder = FrameDecoder(maxFrameLength: 256)

/// A receiver on the device (host commands, say): returns the number of frames delivered.
@_cdecl("probe_decode")
public func probeDecode(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int {
    var frames = 0
    decoder.feed(UnsafeBufferPointer(start: bytes, count: count)) { event in
        if case .frame = event { frames += 1 }
    }
    return frames
}
#endif
