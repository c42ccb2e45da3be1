import * as $protobuf from "protobufjs";
import Long = require("long");
/** Namespace replicant. */
export namespace replicant {

    /** Namespace v1. */
    namespace v1 {

        /** Properties of an Auth. */
        interface IAuth {

            /** Auth token */
            token?: (string|null);
        }

        /** Represents an Auth. */
        class Auth implements IAuth {

            /**
             * Constructs a new Auth.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.IAuth);

            /** Auth token. */
            public token: string;

            /**
             * Creates a new Auth instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Auth instance
             */
            public static create(properties?: replicant.v1.IAuth): replicant.v1.Auth;

            /**
             * Encodes the specified Auth message. Does not implicitly {@link replicant.v1.Auth.verify|verify} messages.
             * @param m Auth message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.IAuth, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes an Auth message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns Auth
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.Auth;

            /**
             * Gets the default type url for Auth
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a Hello. */
        interface IHello {

            /** Hello window */
            window?: (number|null);

            /** Hello meta */
            meta?: ({ [k: string]: string }|null);
        }

        /** Represents a Hello. */
        class Hello implements IHello {

            /**
             * Constructs a new Hello.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.IHello);

            /** Hello window. */
            public window: number;

            /** Hello meta. */
            public meta: { [k: string]: string };

            /**
             * Creates a new Hello instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Hello instance
             */
            public static create(properties?: replicant.v1.IHello): replicant.v1.Hello;

            /**
             * Encodes the specified Hello message. Does not implicitly {@link replicant.v1.Hello.verify|verify} messages.
             * @param m Hello message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.IHello, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Hello message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns Hello
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.Hello;

            /**
             * Gets the default type url for Hello
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a Credit. */
        interface ICredit {

            /** Credit n */
            n?: (number|null);
        }

        /** Represents a Credit. */
        class Credit implements ICredit {

            /**
             * Constructs a new Credit.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.ICredit);

            /** Credit n. */
            public n: number;

            /**
             * Creates a new Credit instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Credit instance
             */
            public static create(properties?: replicant.v1.ICredit): replicant.v1.Credit;

            /**
             * Encodes the specified Credit message. Does not implicitly {@link replicant.v1.Credit.verify|verify} messages.
             * @param m Credit message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.ICredit, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Credit message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns Credit
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.Credit;

            /**
             * Gets the default type url for Credit
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a Subscribe. */
        interface ISubscribe {

            /** Subscribe doc */
            doc?: (string|null);

            /** Subscribe lastSeq */
            lastSeq?: (Long|null);

            /** Subscribe presence */
            presence?: (boolean|null);

            /** Subscribe info */
            info?: (Uint8Array|null);
        }

        /** Represents a Subscribe. */
        class Subscribe implements ISubscribe {

            /**
             * Constructs a new Subscribe.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.ISubscribe);

            /** Subscribe doc. */
            public doc: string;

            /** Subscribe lastSeq. */
            public lastSeq?: (Long|null);

            /** Subscribe presence. */
            public presence: boolean;

            /** Subscribe info. */
            public info: Uint8Array;

            /**
             * Creates a new Subscribe instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Subscribe instance
             */
            public static create(properties?: replicant.v1.ISubscribe): replicant.v1.Subscribe;

            /**
             * Encodes the specified Subscribe message. Does not implicitly {@link replicant.v1.Subscribe.verify|verify} messages.
             * @param m Subscribe message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.ISubscribe, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Subscribe message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns Subscribe
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.Subscribe;

            /**
             * Gets the default type url for Subscribe
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of an Unsubscribe. */
        interface IUnsubscribe {

            /** Unsubscribe doc */
            doc?: (string|null);
        }

        /** Represents an Unsubscribe. */
        class Unsubscribe implements IUnsubscribe {

            /**
             * Constructs a new Unsubscribe.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.IUnsubscribe);

            /** Unsubscribe doc. */
            public doc: string;

            /**
             * Creates a new Unsubscribe instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Unsubscribe instance
             */
            public static create(properties?: replicant.v1.IUnsubscribe): replicant.v1.Unsubscribe;

            /**
             * Encodes the specified Unsubscribe message. Does not implicitly {@link replicant.v1.Unsubscribe.verify|verify} messages.
             * @param m Unsubscribe message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.IUnsubscribe, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes an Unsubscribe message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns Unsubscribe
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.Unsubscribe;

            /**
             * Gets the default type url for Unsubscribe
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a Publish. */
        interface IPublish {

            /** Publish doc */
            doc?: (string|null);

            /** Publish patch */
            patch?: (Uint8Array|null);

            /** Publish id */
            id?: (string|null);

            /** Publish ifSeq */
            ifSeq?: (Long|null);
        }

        /** Represents a Publish. */
        class Publish implements IPublish {

            /**
             * Constructs a new Publish.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.IPublish);

            /** Publish doc. */
            public doc: string;

            /** Publish patch. */
            public patch: Uint8Array;

            /** Publish id. */
            public id: string;

            /** Publish ifSeq. */
            public ifSeq?: (Long|null);

            /**
             * Creates a new Publish instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Publish instance
             */
            public static create(properties?: replicant.v1.IPublish): replicant.v1.Publish;

            /**
             * Encodes the specified Publish message. Does not implicitly {@link replicant.v1.Publish.verify|verify} messages.
             * @param m Publish message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.IPublish, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Publish message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns Publish
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.Publish;

            /**
             * Gets the default type url for Publish
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a Ping. */
        interface IPing {
        }

        /** Represents a Ping. */
        class Ping implements IPing {

            /**
             * Constructs a new Ping.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.IPing);

            /**
             * Creates a new Ping instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Ping instance
             */
            public static create(properties?: replicant.v1.IPing): replicant.v1.Ping;

            /**
             * Encodes the specified Ping message. Does not implicitly {@link replicant.v1.Ping.verify|verify} messages.
             * @param m Ping message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.IPing, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Ping message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns Ping
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.Ping;

            /**
             * Gets the default type url for Ping
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a ClientFrame. */
        interface IClientFrame {

            /** ClientFrame auth */
            auth?: (replicant.v1.IAuth|null);

            /** ClientFrame hello */
            hello?: (replicant.v1.IHello|null);

            /** ClientFrame credit */
            credit?: (replicant.v1.ICredit|null);

            /** ClientFrame subscribe */
            subscribe?: (replicant.v1.ISubscribe|null);

            /** ClientFrame unsubscribe */
            unsubscribe?: (replicant.v1.IUnsubscribe|null);

            /** ClientFrame publish */
            publish?: (replicant.v1.IPublish|null);

            /** ClientFrame ping */
            ping?: (replicant.v1.IPing|null);
        }

        /** Represents a ClientFrame. */
        class ClientFrame implements IClientFrame {

            /**
             * Constructs a new ClientFrame.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.IClientFrame);

            /** ClientFrame auth. */
            public auth?: (replicant.v1.IAuth|null);

            /** ClientFrame hello. */
            public hello?: (replicant.v1.IHello|null);

            /** ClientFrame credit. */
            public credit?: (replicant.v1.ICredit|null);

            /** ClientFrame subscribe. */
            public subscribe?: (replicant.v1.ISubscribe|null);

            /** ClientFrame unsubscribe. */
            public unsubscribe?: (replicant.v1.IUnsubscribe|null);

            /** ClientFrame publish. */
            public publish?: (replicant.v1.IPublish|null);

            /** ClientFrame ping. */
            public ping?: (replicant.v1.IPing|null);

            /** ClientFrame frame. */
            public frame?: ("auth"|"hello"|"credit"|"subscribe"|"unsubscribe"|"publish"|"ping");

            /**
             * Creates a new ClientFrame instance using the specified properties.
             * @param [properties] Properties to set
             * @returns ClientFrame instance
             */
            public static create(properties?: replicant.v1.IClientFrame): replicant.v1.ClientFrame;

            /**
             * Encodes the specified ClientFrame message. Does not implicitly {@link replicant.v1.ClientFrame.verify|verify} messages.
             * @param m ClientFrame message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.IClientFrame, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a ClientFrame message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns ClientFrame
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.ClientFrame;

            /**
             * Gets the default type url for ClientFrame
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a Snapshot. */
        interface ISnapshot {

            /** Snapshot doc */
            doc?: (string|null);

            /** Snapshot seq */
            seq?: (Long|null);

            /** Snapshot state */
            state?: (Uint8Array|null);
        }

        /** Represents a Snapshot. */
        class Snapshot implements ISnapshot {

            /**
             * Constructs a new Snapshot.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.ISnapshot);

            /** Snapshot doc. */
            public doc: string;

            /** Snapshot seq. */
            public seq: Long;

            /** Snapshot state. */
            public state: Uint8Array;

            /**
             * Creates a new Snapshot instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Snapshot instance
             */
            public static create(properties?: replicant.v1.ISnapshot): replicant.v1.Snapshot;

            /**
             * Encodes the specified Snapshot message. Does not implicitly {@link replicant.v1.Snapshot.verify|verify} messages.
             * @param m Snapshot message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.ISnapshot, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Snapshot message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns Snapshot
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.Snapshot;

            /**
             * Gets the default type url for Snapshot
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a Delta. */
        interface IDelta {

            /** Delta doc */
            doc?: (string|null);

            /** Delta seq */
            seq?: (Long|null);

            /** Delta prevSeq */
            prevSeq?: (Long|null);

            /** Delta patch */
            patch?: (Uint8Array|null);
        }

        /** Represents a Delta. */
        class Delta implements IDelta {

            /**
             * Constructs a new Delta.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.IDelta);

            /** Delta doc. */
            public doc: string;

            /** Delta seq. */
            public seq: Long;

            /** Delta prevSeq. */
            public prevSeq: Long;

            /** Delta patch. */
            public patch: Uint8Array;

            /**
             * Creates a new Delta instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Delta instance
             */
            public static create(properties?: replicant.v1.IDelta): replicant.v1.Delta;

            /**
             * Encodes the specified Delta message. Does not implicitly {@link replicant.v1.Delta.verify|verify} messages.
             * @param m Delta message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.IDelta, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Delta message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns Delta
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.Delta;

            /**
             * Gets the default type url for Delta
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of an Ack. */
        interface IAck {

            /** Ack id */
            id?: (string|null);

            /** Ack seq */
            seq?: (Long|null);
        }

        /** Represents an Ack. */
        class Ack implements IAck {

            /**
             * Constructs a new Ack.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.IAck);

            /** Ack id. */
            public id: string;

            /** Ack seq. */
            public seq: Long;

            /**
             * Creates a new Ack instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Ack instance
             */
            public static create(properties?: replicant.v1.IAck): replicant.v1.Ack;

            /**
             * Encodes the specified Ack message. Does not implicitly {@link replicant.v1.Ack.verify|verify} messages.
             * @param m Ack message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.IAck, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes an Ack message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns Ack
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.Ack;

            /**
             * Gets the default type url for Ack
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of an Error. */
        interface IError {

            /** Error code */
            code?: (string|null);

            /** Error message */
            message?: (string|null);

            /** Error doc */
            doc?: (string|null);

            /** Error id */
            id?: (string|null);
        }

        /** Represents an Error. */
        class Error implements IError {

            /**
             * Constructs a new Error.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.IError);

            /** Error code. */
            public code: string;

            /** Error message. */
            public message: string;

            /** Error doc. */
            public doc: string;

            /** Error id. */
            public id: string;

            /**
             * Creates a new Error instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Error instance
             */
            public static create(properties?: replicant.v1.IError): replicant.v1.Error;

            /**
             * Encodes the specified Error message. Does not implicitly {@link replicant.v1.Error.verify|verify} messages.
             * @param m Error message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.IError, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes an Error message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns Error
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.Error;

            /**
             * Gets the default type url for Error
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a Goaway. */
        interface IGoaway {

            /** Goaway reconnectMs */
            reconnectMs?: (number|null);
        }

        /** Represents a Goaway. */
        class Goaway implements IGoaway {

            /**
             * Constructs a new Goaway.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.IGoaway);

            /** Goaway reconnectMs. */
            public reconnectMs: number;

            /**
             * Creates a new Goaway instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Goaway instance
             */
            public static create(properties?: replicant.v1.IGoaway): replicant.v1.Goaway;

            /**
             * Encodes the specified Goaway message. Does not implicitly {@link replicant.v1.Goaway.verify|verify} messages.
             * @param m Goaway message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.IGoaway, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Goaway message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns Goaway
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.Goaway;

            /**
             * Gets the default type url for Goaway
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a Pong. */
        interface IPong {
        }

        /** Represents a Pong. */
        class Pong implements IPong {

            /**
             * Constructs a new Pong.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.IPong);

            /**
             * Creates a new Pong instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Pong instance
             */
            public static create(properties?: replicant.v1.IPong): replicant.v1.Pong;

            /**
             * Encodes the specified Pong message. Does not implicitly {@link replicant.v1.Pong.verify|verify} messages.
             * @param m Pong message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.IPong, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Pong message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns Pong
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.Pong;

            /**
             * Gets the default type url for Pong
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a Welcome. */
        interface IWelcome {

            /** Welcome connection */
            connection?: (string|null);
        }

        /** Represents a Welcome. */
        class Welcome implements IWelcome {

            /**
             * Constructs a new Welcome.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.IWelcome);

            /** Welcome connection. */
            public connection: string;

            /**
             * Creates a new Welcome instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Welcome instance
             */
            public static create(properties?: replicant.v1.IWelcome): replicant.v1.Welcome;

            /**
             * Encodes the specified Welcome message. Does not implicitly {@link replicant.v1.Welcome.verify|verify} messages.
             * @param m Welcome message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.IWelcome, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Welcome message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns Welcome
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.Welcome;

            /**
             * Gets the default type url for Welcome
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a Message. */
        interface IMessage {

            /** Message id */
            id?: (string|null);

            /** Message data */
            data?: (Uint8Array|null);
        }

        /** Represents a Message. */
        class Message implements IMessage {

            /**
             * Constructs a new Message.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.IMessage);

            /** Message id. */
            public id: string;

            /** Message data. */
            public data: Uint8Array;

            /**
             * Creates a new Message instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Message instance
             */
            public static create(properties?: replicant.v1.IMessage): replicant.v1.Message;

            /**
             * Encodes the specified Message message. Does not implicitly {@link replicant.v1.Message.verify|verify} messages.
             * @param m Message message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.IMessage, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Message message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns Message
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.Message;

            /**
             * Gets the default type url for Message
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a Disconnect. */
        interface IDisconnect {

            /** Disconnect reconnect */
            reconnect?: (boolean|null);
        }

        /** Represents a Disconnect. */
        class Disconnect implements IDisconnect {

            /**
             * Constructs a new Disconnect.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.IDisconnect);

            /** Disconnect reconnect. */
            public reconnect: boolean;

            /**
             * Creates a new Disconnect instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Disconnect instance
             */
            public static create(properties?: replicant.v1.IDisconnect): replicant.v1.Disconnect;

            /**
             * Encodes the specified Disconnect message. Does not implicitly {@link replicant.v1.Disconnect.verify|verify} messages.
             * @param m Disconnect message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.IDisconnect, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Disconnect message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns Disconnect
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.Disconnect;

            /**
             * Gets the default type url for Disconnect
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a ServerFrame. */
        interface IServerFrame {

            /** ServerFrame snapshot */
            snapshot?: (replicant.v1.ISnapshot|null);

            /** ServerFrame delta */
            delta?: (replicant.v1.IDelta|null);

            /** ServerFrame ack */
            ack?: (replicant.v1.IAck|null);

            /** ServerFrame error */
            error?: (replicant.v1.IError|null);

            /** ServerFrame goaway */
            goaway?: (replicant.v1.IGoaway|null);

            /** ServerFrame pong */
            pong?: (replicant.v1.IPong|null);

            /** ServerFrame welcome */
            welcome?: (replicant.v1.IWelcome|null);

            /** ServerFrame message */
            message?: (replicant.v1.IMessage|null);

            /** ServerFrame disconnect */
            disconnect?: (replicant.v1.IDisconnect|null);
        }

        /** Represents a ServerFrame. */
        class ServerFrame implements IServerFrame {

            /**
             * Constructs a new ServerFrame.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.IServerFrame);

            /** ServerFrame snapshot. */
            public snapshot?: (replicant.v1.ISnapshot|null);

            /** ServerFrame delta. */
            public delta?: (replicant.v1.IDelta|null);

            /** ServerFrame ack. */
            public ack?: (replicant.v1.IAck|null);

            /** ServerFrame error. */
            public error?: (replicant.v1.IError|null);

            /** ServerFrame goaway. */
            public goaway?: (replicant.v1.IGoaway|null);

            /** ServerFrame pong. */
            public pong?: (replicant.v1.IPong|null);

            /** ServerFrame welcome. */
            public welcome?: (replicant.v1.IWelcome|null);

            /** ServerFrame message. */
            public message?: (replicant.v1.IMessage|null);

            /** ServerFrame disconnect. */
            public disconnect?: (replicant.v1.IDisconnect|null);

            /** ServerFrame frame. */
            public frame?: ("snapshot"|"delta"|"ack"|"error"|"goaway"|"pong"|"welcome"|"message"|"disconnect");

            /**
             * Creates a new ServerFrame instance using the specified properties.
             * @param [properties] Properties to set
             * @returns ServerFrame instance
             */
            public static create(properties?: replicant.v1.IServerFrame): replicant.v1.ServerFrame;

            /**
             * Encodes the specified ServerFrame message. Does not implicitly {@link replicant.v1.ServerFrame.verify|verify} messages.
             * @param m ServerFrame message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.IServerFrame, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a ServerFrame message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns ServerFrame
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.ServerFrame;

            /**
             * Gets the default type url for ServerFrame
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of an Op. */
        interface IOp {

            /** Op patch */
            patch?: (Uint8Array|null);

            /** Op key */
            key?: (string|null);

            /** Op tsMs */
            tsMs?: (Long|null);

            /** Op ifSeq */
            ifSeq?: (Long|null);

            /** Op maxDocBytes */
            maxDocBytes?: (Long|null);

            /** Op replace */
            replace?: (boolean|null);
        }

        /** Represents an Op. */
        class Op implements IOp {

            /**
             * Constructs a new Op.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.IOp);

            /** Op patch. */
            public patch: Uint8Array;

            /** Op key. */
            public key: string;

            /** Op tsMs. */
            public tsMs: Long;

            /** Op ifSeq. */
            public ifSeq?: (Long|null);

            /** Op maxDocBytes. */
            public maxDocBytes?: (Long|null);

            /** Op replace. */
            public replace?: (boolean|null);

            /**
             * Creates a new Op instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Op instance
             */
            public static create(properties?: replicant.v1.IOp): replicant.v1.Op;

            /**
             * Encodes the specified Op message. Does not implicitly {@link replicant.v1.Op.verify|verify} messages.
             * @param m Op message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.IOp, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes an Op message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns Op
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.Op;

            /**
             * Gets the default type url for Op
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a LinkSubscribe. */
        interface ILinkSubscribe {

            /** LinkSubscribe doc */
            doc?: (string|null);

            /** LinkSubscribe lastSeq */
            lastSeq?: (Long|null);
        }

        /** Represents a LinkSubscribe. */
        class LinkSubscribe implements ILinkSubscribe {

            /**
             * Constructs a new LinkSubscribe.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.ILinkSubscribe);

            /** LinkSubscribe doc. */
            public doc: string;

            /** LinkSubscribe lastSeq. */
            public lastSeq?: (Long|null);

            /**
             * Creates a new LinkSubscribe instance using the specified properties.
             * @param [properties] Properties to set
             * @returns LinkSubscribe instance
             */
            public static create(properties?: replicant.v1.ILinkSubscribe): replicant.v1.LinkSubscribe;

            /**
             * Encodes the specified LinkSubscribe message. Does not implicitly {@link replicant.v1.LinkSubscribe.verify|verify} messages.
             * @param m LinkSubscribe message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.ILinkSubscribe, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a LinkSubscribe message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns LinkSubscribe
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.LinkSubscribe;

            /**
             * Gets the default type url for LinkSubscribe
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a LinkUnsubscribe. */
        interface ILinkUnsubscribe {

            /** LinkUnsubscribe doc */
            doc?: (string|null);
        }

        /** Represents a LinkUnsubscribe. */
        class LinkUnsubscribe implements ILinkUnsubscribe {

            /**
             * Constructs a new LinkUnsubscribe.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.ILinkUnsubscribe);

            /** LinkUnsubscribe doc. */
            public doc: string;

            /**
             * Creates a new LinkUnsubscribe instance using the specified properties.
             * @param [properties] Properties to set
             * @returns LinkUnsubscribe instance
             */
            public static create(properties?: replicant.v1.ILinkUnsubscribe): replicant.v1.LinkUnsubscribe;

            /**
             * Encodes the specified LinkUnsubscribe message. Does not implicitly {@link replicant.v1.LinkUnsubscribe.verify|verify} messages.
             * @param m LinkUnsubscribe message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.ILinkUnsubscribe, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a LinkUnsubscribe message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns LinkUnsubscribe
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.LinkUnsubscribe;

            /**
             * Gets the default type url for LinkUnsubscribe
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a LinkCredit. */
        interface ILinkCredit {

            /** LinkCredit n */
            n?: (number|null);
        }

        /** Represents a LinkCredit. */
        class LinkCredit implements ILinkCredit {

            /**
             * Constructs a new LinkCredit.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.ILinkCredit);

            /** LinkCredit n. */
            public n: number;

            /**
             * Creates a new LinkCredit instance using the specified properties.
             * @param [properties] Properties to set
             * @returns LinkCredit instance
             */
            public static create(properties?: replicant.v1.ILinkCredit): replicant.v1.LinkCredit;

            /**
             * Encodes the specified LinkCredit message. Does not implicitly {@link replicant.v1.LinkCredit.verify|verify} messages.
             * @param m LinkCredit message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.ILinkCredit, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a LinkCredit message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns LinkCredit
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.LinkCredit;

            /**
             * Gets the default type url for LinkCredit
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a LinkHello. */
        interface ILinkHello {

            /** LinkHello nodeId */
            nodeId?: (string|null);

            /** LinkHello window */
            window?: (number|null);
        }

        /** Represents a LinkHello. */
        class LinkHello implements ILinkHello {

            /**
             * Constructs a new LinkHello.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.ILinkHello);

            /** LinkHello nodeId. */
            public nodeId: string;

            /** LinkHello window. */
            public window: number;

            /**
             * Creates a new LinkHello instance using the specified properties.
             * @param [properties] Properties to set
             * @returns LinkHello instance
             */
            public static create(properties?: replicant.v1.ILinkHello): replicant.v1.LinkHello;

            /**
             * Encodes the specified LinkHello message. Does not implicitly {@link replicant.v1.LinkHello.verify|verify} messages.
             * @param m LinkHello message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.ILinkHello, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a LinkHello message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns LinkHello
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.LinkHello;

            /**
             * Gets the default type url for LinkHello
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a LinkSnapshot. */
        interface ILinkSnapshot {

            /** LinkSnapshot doc */
            doc?: (string|null);

            /** LinkSnapshot seq */
            seq?: (Long|null);

            /** LinkSnapshot state */
            state?: (Uint8Array|null);

            /** LinkSnapshot history */
            history?: (replicant.v1.ILinkDelta[]|null);
        }

        /** Represents a LinkSnapshot. */
        class LinkSnapshot implements ILinkSnapshot {

            /**
             * Constructs a new LinkSnapshot.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.ILinkSnapshot);

            /** LinkSnapshot doc. */
            public doc: string;

            /** LinkSnapshot seq. */
            public seq: Long;

            /** LinkSnapshot state. */
            public state: Uint8Array;

            /** LinkSnapshot history. */
            public history: replicant.v1.ILinkDelta[];

            /**
             * Creates a new LinkSnapshot instance using the specified properties.
             * @param [properties] Properties to set
             * @returns LinkSnapshot instance
             */
            public static create(properties?: replicant.v1.ILinkSnapshot): replicant.v1.LinkSnapshot;

            /**
             * Encodes the specified LinkSnapshot message. Does not implicitly {@link replicant.v1.LinkSnapshot.verify|verify} messages.
             * @param m LinkSnapshot message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.ILinkSnapshot, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a LinkSnapshot message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns LinkSnapshot
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.LinkSnapshot;

            /**
             * Gets the default type url for LinkSnapshot
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a LinkDelta. */
        interface ILinkDelta {

            /** LinkDelta doc */
            doc?: (string|null);

            /** LinkDelta seq */
            seq?: (Long|null);

            /** LinkDelta prevSeq */
            prevSeq?: (Long|null);

            /** LinkDelta patch */
            patch?: (Uint8Array|null);

            /** LinkDelta tsMs */
            tsMs?: (Long|null);
        }

        /** Represents a LinkDelta. */
        class LinkDelta implements ILinkDelta {

            /**
             * Constructs a new LinkDelta.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.ILinkDelta);

            /** LinkDelta doc. */
            public doc: string;

            /** LinkDelta seq. */
            public seq: Long;

            /** LinkDelta prevSeq. */
            public prevSeq: Long;

            /** LinkDelta patch. */
            public patch: Uint8Array;

            /** LinkDelta tsMs. */
            public tsMs: Long;

            /**
             * Creates a new LinkDelta instance using the specified properties.
             * @param [properties] Properties to set
             * @returns LinkDelta instance
             */
            public static create(properties?: replicant.v1.ILinkDelta): replicant.v1.LinkDelta;

            /**
             * Encodes the specified LinkDelta message. Does not implicitly {@link replicant.v1.LinkDelta.verify|verify} messages.
             * @param m LinkDelta message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.ILinkDelta, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a LinkDelta message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns LinkDelta
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.LinkDelta;

            /**
             * Gets the default type url for LinkDelta
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a LinkError. */
        interface ILinkError {

            /** LinkError doc */
            doc?: (string|null);

            /** LinkError code */
            code?: (string|null);

            /** LinkError message */
            message?: (string|null);
        }

        /** Represents a LinkError. */
        class LinkError implements ILinkError {

            /**
             * Constructs a new LinkError.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.ILinkError);

            /** LinkError doc. */
            public doc: string;

            /** LinkError code. */
            public code: string;

            /** LinkError message. */
            public message: string;

            /**
             * Creates a new LinkError instance using the specified properties.
             * @param [properties] Properties to set
             * @returns LinkError instance
             */
            public static create(properties?: replicant.v1.ILinkError): replicant.v1.LinkError;

            /**
             * Encodes the specified LinkError message. Does not implicitly {@link replicant.v1.LinkError.verify|verify} messages.
             * @param m LinkError message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.ILinkError, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a LinkError message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns LinkError
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.LinkError;

            /**
             * Gets the default type url for LinkError
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a LinkHot. */
        interface ILinkHot {

            /** LinkHot doc */
            doc?: (string|null);

            /** LinkHot spread */
            spread?: (number|null);

            /** LinkHot slot */
            slot?: (number|null);
        }

        /** Represents a LinkHot. */
        class LinkHot implements ILinkHot {

            /**
             * Constructs a new LinkHot.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.ILinkHot);

            /** LinkHot doc. */
            public doc: string;

            /** LinkHot spread. */
            public spread: number;

            /** LinkHot slot. */
            public slot: number;

            /**
             * Creates a new LinkHot instance using the specified properties.
             * @param [properties] Properties to set
             * @returns LinkHot instance
             */
            public static create(properties?: replicant.v1.ILinkHot): replicant.v1.LinkHot;

            /**
             * Encodes the specified LinkHot message. Does not implicitly {@link replicant.v1.LinkHot.verify|verify} messages.
             * @param m LinkHot message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.ILinkHot, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a LinkHot message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns LinkHot
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.LinkHot;

            /**
             * Gets the default type url for LinkHot
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a LinkChallenge. */
        interface ILinkChallenge {

            /** LinkChallenge nonce */
            nonce?: (Uint8Array|null);
        }

        /** Represents a LinkChallenge. */
        class LinkChallenge implements ILinkChallenge {

            /**
             * Constructs a new LinkChallenge.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.ILinkChallenge);

            /** LinkChallenge nonce. */
            public nonce: Uint8Array;

            /**
             * Creates a new LinkChallenge instance using the specified properties.
             * @param [properties] Properties to set
             * @returns LinkChallenge instance
             */
            public static create(properties?: replicant.v1.ILinkChallenge): replicant.v1.LinkChallenge;

            /**
             * Encodes the specified LinkChallenge message. Does not implicitly {@link replicant.v1.LinkChallenge.verify|verify} messages.
             * @param m LinkChallenge message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.ILinkChallenge, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a LinkChallenge message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns LinkChallenge
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.LinkChallenge;

            /**
             * Gets the default type url for LinkChallenge
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a LinkAuth. */
        interface ILinkAuth {

            /** LinkAuth nonce */
            nonce?: (Uint8Array|null);

            /** LinkAuth proof */
            proof?: (Uint8Array|null);
        }

        /** Represents a LinkAuth. */
        class LinkAuth implements ILinkAuth {

            /**
             * Constructs a new LinkAuth.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.ILinkAuth);

            /** LinkAuth nonce. */
            public nonce: Uint8Array;

            /** LinkAuth proof. */
            public proof: Uint8Array;

            /**
             * Creates a new LinkAuth instance using the specified properties.
             * @param [properties] Properties to set
             * @returns LinkAuth instance
             */
            public static create(properties?: replicant.v1.ILinkAuth): replicant.v1.LinkAuth;

            /**
             * Encodes the specified LinkAuth message. Does not implicitly {@link replicant.v1.LinkAuth.verify|verify} messages.
             * @param m LinkAuth message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.ILinkAuth, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a LinkAuth message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns LinkAuth
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.LinkAuth;

            /**
             * Gets the default type url for LinkAuth
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a LinkAuthOk. */
        interface ILinkAuthOk {

            /** LinkAuthOk proof */
            proof?: (Uint8Array|null);
        }

        /** Represents a LinkAuthOk. */
        class LinkAuthOk implements ILinkAuthOk {

            /**
             * Constructs a new LinkAuthOk.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.ILinkAuthOk);

            /** LinkAuthOk proof. */
            public proof: Uint8Array;

            /**
             * Creates a new LinkAuthOk instance using the specified properties.
             * @param [properties] Properties to set
             * @returns LinkAuthOk instance
             */
            public static create(properties?: replicant.v1.ILinkAuthOk): replicant.v1.LinkAuthOk;

            /**
             * Encodes the specified LinkAuthOk message. Does not implicitly {@link replicant.v1.LinkAuthOk.verify|verify} messages.
             * @param m LinkAuthOk message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.ILinkAuthOk, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a LinkAuthOk message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns LinkAuthOk
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.LinkAuthOk;

            /**
             * Gets the default type url for LinkAuthOk
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a LinkFrame. */
        interface ILinkFrame {

            /** LinkFrame hello */
            hello?: (replicant.v1.ILinkHello|null);

            /** LinkFrame subscribe */
            subscribe?: (replicant.v1.ILinkSubscribe|null);

            /** LinkFrame unsubscribe */
            unsubscribe?: (replicant.v1.ILinkUnsubscribe|null);

            /** LinkFrame credit */
            credit?: (replicant.v1.ILinkCredit|null);

            /** LinkFrame snapshot */
            snapshot?: (replicant.v1.ILinkSnapshot|null);

            /** LinkFrame delta */
            delta?: (replicant.v1.ILinkDelta|null);

            /** LinkFrame error */
            error?: (replicant.v1.ILinkError|null);

            /** LinkFrame hot */
            hot?: (replicant.v1.ILinkHot|null);

            /** LinkFrame challenge */
            challenge?: (replicant.v1.ILinkChallenge|null);

            /** LinkFrame auth */
            auth?: (replicant.v1.ILinkAuth|null);

            /** LinkFrame authOk */
            authOk?: (replicant.v1.ILinkAuthOk|null);
        }

        /** Represents a LinkFrame. */
        class LinkFrame implements ILinkFrame {

            /**
             * Constructs a new LinkFrame.
             * @param [p] Properties to set
             */
            constructor(p?: replicant.v1.ILinkFrame);

            /** LinkFrame hello. */
            public hello?: (replicant.v1.ILinkHello|null);

            /** LinkFrame subscribe. */
            public subscribe?: (replicant.v1.ILinkSubscribe|null);

            /** LinkFrame unsubscribe. */
            public unsubscribe?: (replicant.v1.ILinkUnsubscribe|null);

            /** LinkFrame credit. */
            public credit?: (replicant.v1.ILinkCredit|null);

            /** LinkFrame snapshot. */
            public snapshot?: (replicant.v1.ILinkSnapshot|null);

            /** LinkFrame delta. */
            public delta?: (replicant.v1.ILinkDelta|null);

            /** LinkFrame error. */
            public error?: (replicant.v1.ILinkError|null);

            /** LinkFrame hot. */
            public hot?: (replicant.v1.ILinkHot|null);

            /** LinkFrame challenge. */
            public challenge?: (replicant.v1.ILinkChallenge|null);

            /** LinkFrame auth. */
            public auth?: (replicant.v1.ILinkAuth|null);

            /** LinkFrame authOk. */
            public authOk?: (replicant.v1.ILinkAuthOk|null);

            /** LinkFrame frame. */
            public frame?: ("hello"|"subscribe"|"unsubscribe"|"credit"|"snapshot"|"delta"|"error"|"hot"|"challenge"|"auth"|"authOk");

            /**
             * Creates a new LinkFrame instance using the specified properties.
             * @param [properties] Properties to set
             * @returns LinkFrame instance
             */
            public static create(properties?: replicant.v1.ILinkFrame): replicant.v1.LinkFrame;

            /**
             * Encodes the specified LinkFrame message. Does not implicitly {@link replicant.v1.LinkFrame.verify|verify} messages.
             * @param m LinkFrame message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            public static encode(m: replicant.v1.ILinkFrame, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a LinkFrame message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns LinkFrame
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(r: ($protobuf.Reader|Uint8Array), l?: number): replicant.v1.LinkFrame;

            /**
             * Gets the default type url for LinkFrame
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }
    }
}
