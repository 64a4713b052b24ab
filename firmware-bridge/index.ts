/** The scanner bridge's public surface: what the station may use. */
export type { CalibrationReport, DeviceInfo, DriverError, ImageFormat, PaperPathState, RefusalReason, ScannedImage, ScannerCapabilities, ScannerDriver, ScannerEvent, ScannerEventType, ScannerStatus, Unsubscribe } from './driver';
export { describeDriverError } from './driver';
export type { FlagReason, ReturnReason, SheetOutcome, SheetStage } from './lifecycle';
export { describeOutcome } from './lifecycle';
export { systemClock, ManualClock, type Clock } from './clock';
export { SerialScannerDriver, type SerialDriverOptions } from './serial/serial-driver';
export { SaneScannerDriver, type SaneDriverOptions } from './sane/sane-driver';
export { FolderScannerDriver, type FolderDriverOptions } from './folder/folder-driver';
export { startSimulatedScanner, type SimulatedScanner, type SimulatedScannerOptions } from './simulator/start';
export { openScanner, parseScannerConfig, scannerConfigSchema, type OpenedScanner, type ScannerConfig } from './config';
