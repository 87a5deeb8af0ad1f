// The parts of the `xmlrpc` npm package (1.3.2, no typings of its own) that the codec uses.
declare module 'xmlrpc/lib/serializer' {
  export function serializeMethodCall(method: string, params: unknown[], encoding?: string): string;
  export function serializeMethodResponse(result: unknown): string;
  export function serializeFault(fault: { faultCode: unknown; faultString: unknown }): string;
}

declare module 'xmlrpc/lib/customtype' {
  /** A value the serializer writes as `<tagName>raw</tagName>` (raw escaped as element text). */
  class CustomType {
    constructor(raw: string);
    raw: string;
    tagName: string;
  }
  export = CustomType;
}
