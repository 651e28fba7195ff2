// Firmware entry: startup.c calls sensor_bridge_main() after copying .data, zeroing .bss and
// enabling the FPU. Never returns.
import SensorBridgeCore

@_cdecl("sensor_bridge_main")
public func sensorBridgeMain() -> Never {
    var board = STM32F411Board()
    board.initialize()
    var bridge = SensorBridge(board: board, configuration: BridgeConfiguration())
    bridge.boot()
    while true {
        bridge.poll()
    }
}
