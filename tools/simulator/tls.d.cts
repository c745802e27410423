export interface SimulatorTls {
  caPath: string;
  certPath: string;
  keyPath: string;
  ca: string;
  cert: string;
  key: string;
}
export declare function ensureSimulatorTls(): SimulatorTls;
export declare const SIMULATOR_TLS_DIR: string;
