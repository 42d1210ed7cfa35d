// Tests read JSON bodies of many shapes; let `response.json()` be `any` in test code only.
export {};
declare global {
  interface Response {
    json(): Promise<any>;
  }
}
