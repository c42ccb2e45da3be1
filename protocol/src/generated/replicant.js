/*eslint-disable block-scoped-var, id-length, no-control-regex, no-magic-numbers, no-prototype-builtins, no-redeclare, no-shadow, no-var, sort-vars*/
import $protobuf from "protobufjs/minimal.js";

// Common aliases
const $Reader = $protobuf.Reader, $Writer = $protobuf.Writer, $util = $protobuf.util;

// Exported root namespace
const $root = $protobuf.roots["default"] || ($protobuf.roots["default"] = {});

export const replicant = $root.replicant = (() => {

    /**
     * Namespace replicant.
     * @exports replicant
     * @namespace
     */
    const replicant = {};

    replicant.v1 = (function() {

        /**
         * Namespace v1.
         * @memberof replicant
         * @namespace
         */
        const v1 = {};

        v1.Auth = (function() {

            /**
             * Properties of an Auth.
             * @memberof replicant.v1
             * @interface IAuth
             * @property {string|null} [token] Auth token
             */

            /**
             * Constructs a new Auth.
             * @memberof replicant.v1
             * @classdesc Represents an Auth.
             * @implements IAuth
             * @constructor
             * @param {replicant.v1.IAuth=} [p] Properties to set
             */
            function Auth(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * Auth token.
             * @member {string} token
             * @memberof replicant.v1.Auth
             * @instance
             */
            Auth.prototype.token = "";

            /**
             * Creates a new Auth instance using the specified properties.
             * @function create
             * @memberof replicant.v1.Auth
             * @static
             * @param {replicant.v1.IAuth=} [properties] Properties to set
             * @returns {replicant.v1.Auth} Auth instance
             */
            Auth.create = function create(properties) {
                return new Auth(properties);
            };

            /**
             * Encodes the specified Auth message. Does not implicitly {@link replicant.v1.Auth.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.Auth
             * @static
             * @param {replicant.v1.IAuth} m Auth message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Auth.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.token != null && Object.hasOwnProperty.call(m, "token"))
                    w.uint32(10).string(m.token);
                return w;
            };

            /**
             * Decodes an Auth message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.Auth
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.Auth} Auth
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Auth.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.Auth();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.token = r.string();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for Auth
             * @function getTypeUrl
             * @memberof replicant.v1.Auth
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            Auth.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.Auth";
            };

            return Auth;
        })();

        v1.Hello = (function() {

            /**
             * Properties of a Hello.
             * @memberof replicant.v1
             * @interface IHello
             * @property {number|null} [window] Hello window
             * @property {Object.<string,string>|null} [meta] Hello meta
             */

            /**
             * Constructs a new Hello.
             * @memberof replicant.v1
             * @classdesc Represents a Hello.
             * @implements IHello
             * @constructor
             * @param {replicant.v1.IHello=} [p] Properties to set
             */
            function Hello(p) {
                this.meta = {};
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * Hello window.
             * @member {number} window
             * @memberof replicant.v1.Hello
             * @instance
             */
            Hello.prototype.window = 0;

            /**
             * Hello meta.
             * @member {Object.<string,string>} meta
             * @memberof replicant.v1.Hello
             * @instance
             */
            Hello.prototype.meta = $util.emptyObject;

            /**
             * Creates a new Hello instance using the specified properties.
             * @function create
             * @memberof replicant.v1.Hello
             * @static
             * @param {replicant.v1.IHello=} [properties] Properties to set
             * @returns {replicant.v1.Hello} Hello instance
             */
            Hello.create = function create(properties) {
                return new Hello(properties);
            };

            /**
             * Encodes the specified Hello message. Does not implicitly {@link replicant.v1.Hello.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.Hello
             * @static
             * @param {replicant.v1.IHello} m Hello message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Hello.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.window != null && Object.hasOwnProperty.call(m, "window"))
                    w.uint32(8).uint32(m.window);
                if (m.meta != null && Object.hasOwnProperty.call(m, "meta")) {
                    for (var ks = Object.keys(m.meta), i = 0; i < ks.length; ++i) {
                        w.uint32(18).fork().uint32(10).string(ks[i]).uint32(18).string(m.meta[ks[i]]).ldelim();
                    }
                }
                return w;
            };

            /**
             * Decodes a Hello message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.Hello
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.Hello} Hello
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Hello.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m, k, value;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.Hello();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.window = r.uint32();
                            break;
                        }
                    case 2: {
                            if (m.meta === $util.emptyObject)
                                m.meta = {};
                            var c2 = r.uint32() + r.pos;
                            if (c2 > r.len)
                                throw RangeError("index out of range");
                            r.len = c2;
                            k = "";
                            value = "";
                            while (r.pos < c2) {
                                var tag2 = r.uint32();
                                switch (tag2 >>> 3) {
                                case 1:
                                    k = r.string();
                                    break;
                                case 2:
                                    value = r.string();
                                    break;
                                default:
                                    r.skipType(tag2 & 7, n);
                                    break;
                                }
                            }
                            if (r.pos !== c2)
                                throw RangeError("index out of range");
                            r.len = c;
                            if (k === "__proto__")
                                $util.makeProp(m.meta, k);
                            m.meta[k] = value;
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for Hello
             * @function getTypeUrl
             * @memberof replicant.v1.Hello
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            Hello.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.Hello";
            };

            return Hello;
        })();

        v1.Credit = (function() {

            /**
             * Properties of a Credit.
             * @memberof replicant.v1
             * @interface ICredit
             * @property {number|null} [n] Credit n
             */

            /**
             * Constructs a new Credit.
             * @memberof replicant.v1
             * @classdesc Represents a Credit.
             * @implements ICredit
             * @constructor
             * @param {replicant.v1.ICredit=} [p] Properties to set
             */
            function Credit(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * Credit n.
             * @member {number} n
             * @memberof replicant.v1.Credit
             * @instance
             */
            Credit.prototype.n = 0;

            /**
             * Creates a new Credit instance using the specified properties.
             * @function create
             * @memberof replicant.v1.Credit
             * @static
             * @param {replicant.v1.ICredit=} [properties] Properties to set
             * @returns {replicant.v1.Credit} Credit instance
             */
            Credit.create = function create(properties) {
                return new Credit(properties);
            };

            /**
             * Encodes the specified Credit message. Does not implicitly {@link replicant.v1.Credit.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.Credit
             * @static
             * @param {replicant.v1.ICredit} m Credit message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Credit.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.n != null && Object.hasOwnProperty.call(m, "n"))
                    w.uint32(8).uint32(m.n);
                return w;
            };

            /**
             * Decodes a Credit message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.Credit
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.Credit} Credit
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Credit.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.Credit();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.n = r.uint32();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for Credit
             * @function getTypeUrl
             * @memberof replicant.v1.Credit
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            Credit.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.Credit";
            };

            return Credit;
        })();

        v1.Subscribe = (function() {

            /**
             * Properties of a Subscribe.
             * @memberof replicant.v1
             * @interface ISubscribe
             * @property {string|null} [doc] Subscribe doc
             * @property {Long|null} [lastSeq] Subscribe lastSeq
             * @property {boolean|null} [presence] Subscribe presence
             * @property {Uint8Array|null} [info] Subscribe info
             */

            /**
             * Constructs a new Subscribe.
             * @memberof replicant.v1
             * @classdesc Represents a Subscribe.
             * @implements ISubscribe
             * @constructor
             * @param {replicant.v1.ISubscribe=} [p] Properties to set
             */
            function Subscribe(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * Subscribe doc.
             * @member {string} doc
             * @memberof replicant.v1.Subscribe
             * @instance
             */
            Subscribe.prototype.doc = "";

            /**
             * Subscribe lastSeq.
             * @member {Long|null|undefined} lastSeq
             * @memberof replicant.v1.Subscribe
             * @instance
             */
            Subscribe.prototype.lastSeq = null;

            /**
             * Subscribe presence.
             * @member {boolean} presence
             * @memberof replicant.v1.Subscribe
             * @instance
             */
            Subscribe.prototype.presence = false;

            /**
             * Subscribe info.
             * @member {Uint8Array} info
             * @memberof replicant.v1.Subscribe
             * @instance
             */
            Subscribe.prototype.info = $util.newBuffer([]);

            // OneOf field names bound to virtual getters and setters
            let $oneOfFields;

            // Virtual OneOf for proto3 optional field
            Object.defineProperty(Subscribe.prototype, "_lastSeq", {
                get: $util.oneOfGetter($oneOfFields = ["lastSeq"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            /**
             * Creates a new Subscribe instance using the specified properties.
             * @function create
             * @memberof replicant.v1.Subscribe
             * @static
             * @param {replicant.v1.ISubscribe=} [properties] Properties to set
             * @returns {replicant.v1.Subscribe} Subscribe instance
             */
            Subscribe.create = function create(properties) {
                return new Subscribe(properties);
            };

            /**
             * Encodes the specified Subscribe message. Does not implicitly {@link replicant.v1.Subscribe.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.Subscribe
             * @static
             * @param {replicant.v1.ISubscribe} m Subscribe message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Subscribe.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.doc != null && Object.hasOwnProperty.call(m, "doc"))
                    w.uint32(10).string(m.doc);
                if (m.lastSeq != null && Object.hasOwnProperty.call(m, "lastSeq"))
                    w.uint32(16).uint64(m.lastSeq);
                if (m.presence != null && Object.hasOwnProperty.call(m, "presence"))
                    w.uint32(24).bool(m.presence);
                if (m.info != null && Object.hasOwnProperty.call(m, "info"))
                    w.uint32(34).bytes(m.info);
                return w;
            };

            /**
             * Decodes a Subscribe message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.Subscribe
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.Subscribe} Subscribe
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Subscribe.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.Subscribe();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.doc = r.string();
                            break;
                        }
                    case 2: {
                            m.lastSeq = r.uint64();
                            break;
                        }
                    case 3: {
                            m.presence = r.bool();
                            break;
                        }
                    case 4: {
                            m.info = r.bytes();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for Subscribe
             * @function getTypeUrl
             * @memberof replicant.v1.Subscribe
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            Subscribe.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.Subscribe";
            };

            return Subscribe;
        })();

        v1.Unsubscribe = (function() {

            /**
             * Properties of an Unsubscribe.
             * @memberof replicant.v1
             * @interface IUnsubscribe
             * @property {string|null} [doc] Unsubscribe doc
             */

            /**
             * Constructs a new Unsubscribe.
             * @memberof replicant.v1
             * @classdesc Represents an Unsubscribe.
             * @implements IUnsubscribe
             * @constructor
             * @param {replicant.v1.IUnsubscribe=} [p] Properties to set
             */
            function Unsubscribe(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * Unsubscribe doc.
             * @member {string} doc
             * @memberof replicant.v1.Unsubscribe
             * @instance
             */
            Unsubscribe.prototype.doc = "";

            /**
             * Creates a new Unsubscribe instance using the specified properties.
             * @function create
             * @memberof replicant.v1.Unsubscribe
             * @static
             * @param {replicant.v1.IUnsubscribe=} [properties] Properties to set
             * @returns {replicant.v1.Unsubscribe} Unsubscribe instance
             */
            Unsubscribe.create = function create(properties) {
                return new Unsubscribe(properties);
            };

            /**
             * Encodes the specified Unsubscribe message. Does not implicitly {@link replicant.v1.Unsubscribe.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.Unsubscribe
             * @static
             * @param {replicant.v1.IUnsubscribe} m Unsubscribe message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Unsubscribe.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.doc != null && Object.hasOwnProperty.call(m, "doc"))
                    w.uint32(10).string(m.doc);
                return w;
            };

            /**
             * Decodes an Unsubscribe message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.Unsubscribe
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.Unsubscribe} Unsubscribe
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Unsubscribe.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.Unsubscribe();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.doc = r.string();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for Unsubscribe
             * @function getTypeUrl
             * @memberof replicant.v1.Unsubscribe
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            Unsubscribe.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.Unsubscribe";
            };

            return Unsubscribe;
        })();

        v1.Publish = (function() {

            /**
             * Properties of a Publish.
             * @memberof replicant.v1
             * @interface IPublish
             * @property {string|null} [doc] Publish doc
             * @property {Uint8Array|null} [patch] Publish patch
             * @property {string|null} [id] Publish id
             * @property {Long|null} [ifSeq] Publish ifSeq
             */

            /**
             * Constructs a new Publish.
             * @memberof replicant.v1
             * @classdesc Represents a Publish.
             * @implements IPublish
             * @constructor
             * @param {replicant.v1.IPublish=} [p] Properties to set
             */
            function Publish(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * Publish doc.
             * @member {string} doc
             * @memberof replicant.v1.Publish
             * @instance
             */
            Publish.prototype.doc = "";

            /**
             * Publish patch.
             * @member {Uint8Array} patch
             * @memberof replicant.v1.Publish
             * @instance
             */
            Publish.prototype.patch = $util.newBuffer([]);

            /**
             * Publish id.
             * @member {string} id
             * @memberof replicant.v1.Publish
             * @instance
             */
            Publish.prototype.id = "";

            /**
             * Publish ifSeq.
             * @member {Long|null|undefined} ifSeq
             * @memberof replicant.v1.Publish
             * @instance
             */
            Publish.prototype.ifSeq = null;

            // OneOf field names bound to virtual getters and setters
            let $oneOfFields;

            // Virtual OneOf for proto3 optional field
            Object.defineProperty(Publish.prototype, "_ifSeq", {
                get: $util.oneOfGetter($oneOfFields = ["ifSeq"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            /**
             * Creates a new Publish instance using the specified properties.
             * @function create
             * @memberof replicant.v1.Publish
             * @static
             * @param {replicant.v1.IPublish=} [properties] Properties to set
             * @returns {replicant.v1.Publish} Publish instance
             */
            Publish.create = function create(properties) {
                return new Publish(properties);
            };

            /**
             * Encodes the specified Publish message. Does not implicitly {@link replicant.v1.Publish.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.Publish
             * @static
             * @param {replicant.v1.IPublish} m Publish message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Publish.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.doc != null && Object.hasOwnProperty.call(m, "doc"))
                    w.uint32(10).string(m.doc);
                if (m.patch != null && Object.hasOwnProperty.call(m, "patch"))
                    w.uint32(18).bytes(m.patch);
                if (m.id != null && Object.hasOwnProperty.call(m, "id"))
                    w.uint32(26).string(m.id);
                if (m.ifSeq != null && Object.hasOwnProperty.call(m, "ifSeq"))
                    w.uint32(32).uint64(m.ifSeq);
                return w;
            };

            /**
             * Decodes a Publish message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.Publish
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.Publish} Publish
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Publish.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.Publish();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.doc = r.string();
                            break;
                        }
                    case 2: {
                            m.patch = r.bytes();
                            break;
                        }
                    case 3: {
                            m.id = r.string();
                            break;
                        }
                    case 4: {
                            m.ifSeq = r.uint64();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for Publish
             * @function getTypeUrl
             * @memberof replicant.v1.Publish
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            Publish.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.Publish";
            };

            return Publish;
        })();

        v1.Ping = (function() {

            /**
             * Properties of a Ping.
             * @memberof replicant.v1
             * @interface IPing
             */

            /**
             * Constructs a new Ping.
             * @memberof replicant.v1
             * @classdesc Represents a Ping.
             * @implements IPing
             * @constructor
             * @param {replicant.v1.IPing=} [p] Properties to set
             */
            function Ping(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * Creates a new Ping instance using the specified properties.
             * @function create
             * @memberof replicant.v1.Ping
             * @static
             * @param {replicant.v1.IPing=} [properties] Properties to set
             * @returns {replicant.v1.Ping} Ping instance
             */
            Ping.create = function create(properties) {
                return new Ping(properties);
            };

            /**
             * Encodes the specified Ping message. Does not implicitly {@link replicant.v1.Ping.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.Ping
             * @static
             * @param {replicant.v1.IPing} m Ping message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Ping.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                return w;
            };

            /**
             * Decodes a Ping message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.Ping
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.Ping} Ping
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Ping.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.Ping();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for Ping
             * @function getTypeUrl
             * @memberof replicant.v1.Ping
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            Ping.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.Ping";
            };

            return Ping;
        })();

        v1.ClientFrame = (function() {

            /**
             * Properties of a ClientFrame.
             * @memberof replicant.v1
             * @interface IClientFrame
             * @property {replicant.v1.IAuth|null} [auth] ClientFrame auth
             * @property {replicant.v1.IHello|null} [hello] ClientFrame hello
             * @property {replicant.v1.ICredit|null} [credit] ClientFrame credit
             * @property {replicant.v1.ISubscribe|null} [subscribe] ClientFrame subscribe
             * @property {replicant.v1.IUnsubscribe|null} [unsubscribe] ClientFrame unsubscribe
             * @property {replicant.v1.IPublish|null} [publish] ClientFrame publish
             * @property {replicant.v1.IPing|null} [ping] ClientFrame ping
             */

            /**
             * Constructs a new ClientFrame.
             * @memberof replicant.v1
             * @classdesc Represents a ClientFrame.
             * @implements IClientFrame
             * @constructor
             * @param {replicant.v1.IClientFrame=} [p] Properties to set
             */
            function ClientFrame(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * ClientFrame auth.
             * @member {replicant.v1.IAuth|null|undefined} auth
             * @memberof replicant.v1.ClientFrame
             * @instance
             */
            ClientFrame.prototype.auth = null;

            /**
             * ClientFrame hello.
             * @member {replicant.v1.IHello|null|undefined} hello
             * @memberof replicant.v1.ClientFrame
             * @instance
             */
            ClientFrame.prototype.hello = null;

            /**
             * ClientFrame credit.
             * @member {replicant.v1.ICredit|null|undefined} credit
             * @memberof replicant.v1.ClientFrame
             * @instance
             */
            ClientFrame.prototype.credit = null;

            /**
             * ClientFrame subscribe.
             * @member {replicant.v1.ISubscribe|null|undefined} subscribe
             * @memberof replicant.v1.ClientFrame
             * @instance
             */
            ClientFrame.prototype.subscribe = null;

            /**
             * ClientFrame unsubscribe.
             * @member {replicant.v1.IUnsubscribe|null|undefined} unsubscribe
             * @memberof replicant.v1.ClientFrame
             * @instance
             */
            ClientFrame.prototype.unsubscribe = null;

            /**
             * ClientFrame publish.
             * @member {replicant.v1.IPublish|null|undefined} publish
             * @memberof replicant.v1.ClientFrame
             * @instance
             */
            ClientFrame.prototype.publish = null;

            /**
             * ClientFrame ping.
             * @member {replicant.v1.IPing|null|undefined} ping
             * @memberof replicant.v1.ClientFrame
             * @instance
             */
            ClientFrame.prototype.ping = null;

            // OneOf field names bound to virtual getters and setters
            let $oneOfFields;

            /**
             * ClientFrame frame.
             * @member {"auth"|"hello"|"credit"|"subscribe"|"unsubscribe"|"publish"|"ping"|undefined} frame
             * @memberof replicant.v1.ClientFrame
             * @instance
             */
            Object.defineProperty(ClientFrame.prototype, "frame", {
                get: $util.oneOfGetter($oneOfFields = ["auth", "hello", "credit", "subscribe", "unsubscribe", "publish", "ping"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            /**
             * Creates a new ClientFrame instance using the specified properties.
             * @function create
             * @memberof replicant.v1.ClientFrame
             * @static
             * @param {replicant.v1.IClientFrame=} [properties] Properties to set
             * @returns {replicant.v1.ClientFrame} ClientFrame instance
             */
            ClientFrame.create = function create(properties) {
                return new ClientFrame(properties);
            };

            /**
             * Encodes the specified ClientFrame message. Does not implicitly {@link replicant.v1.ClientFrame.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.ClientFrame
             * @static
             * @param {replicant.v1.IClientFrame} m ClientFrame message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            ClientFrame.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.auth != null && Object.hasOwnProperty.call(m, "auth"))
                    $root.replicant.v1.Auth.encode(m.auth, w.uint32(10).fork(), q + 1).ldelim();
                if (m.hello != null && Object.hasOwnProperty.call(m, "hello"))
                    $root.replicant.v1.Hello.encode(m.hello, w.uint32(18).fork(), q + 1).ldelim();
                if (m.credit != null && Object.hasOwnProperty.call(m, "credit"))
                    $root.replicant.v1.Credit.encode(m.credit, w.uint32(26).fork(), q + 1).ldelim();
                if (m.subscribe != null && Object.hasOwnProperty.call(m, "subscribe"))
                    $root.replicant.v1.Subscribe.encode(m.subscribe, w.uint32(34).fork(), q + 1).ldelim();
                if (m.unsubscribe != null && Object.hasOwnProperty.call(m, "unsubscribe"))
                    $root.replicant.v1.Unsubscribe.encode(m.unsubscribe, w.uint32(42).fork(), q + 1).ldelim();
                if (m.publish != null && Object.hasOwnProperty.call(m, "publish"))
                    $root.replicant.v1.Publish.encode(m.publish, w.uint32(50).fork(), q + 1).ldelim();
                if (m.ping != null && Object.hasOwnProperty.call(m, "ping"))
                    $root.replicant.v1.Ping.encode(m.ping, w.uint32(58).fork(), q + 1).ldelim();
                return w;
            };

            /**
             * Decodes a ClientFrame message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.ClientFrame
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.ClientFrame} ClientFrame
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            ClientFrame.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.ClientFrame();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.auth = $root.replicant.v1.Auth.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 2: {
                            m.hello = $root.replicant.v1.Hello.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 3: {
                            m.credit = $root.replicant.v1.Credit.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 4: {
                            m.subscribe = $root.replicant.v1.Subscribe.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 5: {
                            m.unsubscribe = $root.replicant.v1.Unsubscribe.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 6: {
                            m.publish = $root.replicant.v1.Publish.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 7: {
                            m.ping = $root.replicant.v1.Ping.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for ClientFrame
             * @function getTypeUrl
             * @memberof replicant.v1.ClientFrame
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            ClientFrame.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.ClientFrame";
            };

            return ClientFrame;
        })();

        v1.Snapshot = (function() {

            /**
             * Properties of a Snapshot.
             * @memberof replicant.v1
             * @interface ISnapshot
             * @property {string|null} [doc] Snapshot doc
             * @property {Long|null} [seq] Snapshot seq
             * @property {Uint8Array|null} [state] Snapshot state
             */

            /**
             * Constructs a new Snapshot.
             * @memberof replicant.v1
             * @classdesc Represents a Snapshot.
             * @implements ISnapshot
             * @constructor
             * @param {replicant.v1.ISnapshot=} [p] Properties to set
             */
            function Snapshot(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * Snapshot doc.
             * @member {string} doc
             * @memberof replicant.v1.Snapshot
             * @instance
             */
            Snapshot.prototype.doc = "";

            /**
             * Snapshot seq.
             * @member {Long} seq
             * @memberof replicant.v1.Snapshot
             * @instance
             */
            Snapshot.prototype.seq = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Snapshot state.
             * @member {Uint8Array} state
             * @memberof replicant.v1.Snapshot
             * @instance
             */
            Snapshot.prototype.state = $util.newBuffer([]);

            /**
             * Creates a new Snapshot instance using the specified properties.
             * @function create
             * @memberof replicant.v1.Snapshot
             * @static
             * @param {replicant.v1.ISnapshot=} [properties] Properties to set
             * @returns {replicant.v1.Snapshot} Snapshot instance
             */
            Snapshot.create = function create(properties) {
                return new Snapshot(properties);
            };

            /**
             * Encodes the specified Snapshot message. Does not implicitly {@link replicant.v1.Snapshot.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.Snapshot
             * @static
             * @param {replicant.v1.ISnapshot} m Snapshot message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Snapshot.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.doc != null && Object.hasOwnProperty.call(m, "doc"))
                    w.uint32(10).string(m.doc);
                if (m.seq != null && Object.hasOwnProperty.call(m, "seq"))
                    w.uint32(16).uint64(m.seq);
                if (m.state != null && Object.hasOwnProperty.call(m, "state"))
                    w.uint32(26).bytes(m.state);
                return w;
            };

            /**
             * Decodes a Snapshot message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.Snapshot
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.Snapshot} Snapshot
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Snapshot.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.Snapshot();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.doc = r.string();
                            break;
                        }
                    case 2: {
                            m.seq = r.uint64();
                            break;
                        }
                    case 3: {
                            m.state = r.bytes();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for Snapshot
             * @function getTypeUrl
             * @memberof replicant.v1.Snapshot
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            Snapshot.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.Snapshot";
            };

            return Snapshot;
        })();

        v1.Delta = (function() {

            /**
             * Properties of a Delta.
             * @memberof replicant.v1
             * @interface IDelta
             * @property {string|null} [doc] Delta doc
             * @property {Long|null} [seq] Delta seq
             * @property {Long|null} [prevSeq] Delta prevSeq
             * @property {Uint8Array|null} [patch] Delta patch
             */

            /**
             * Constructs a new Delta.
             * @memberof replicant.v1
             * @classdesc Represents a Delta.
             * @implements IDelta
             * @constructor
             * @param {replicant.v1.IDelta=} [p] Properties to set
             */
            function Delta(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * Delta doc.
             * @member {string} doc
             * @memberof replicant.v1.Delta
             * @instance
             */
            Delta.prototype.doc = "";

            /**
             * Delta seq.
             * @member {Long} seq
             * @memberof replicant.v1.Delta
             * @instance
             */
            Delta.prototype.seq = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Delta prevSeq.
             * @member {Long} prevSeq
             * @memberof replicant.v1.Delta
             * @instance
             */
            Delta.prototype.prevSeq = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Delta patch.
             * @member {Uint8Array} patch
             * @memberof replicant.v1.Delta
             * @instance
             */
            Delta.prototype.patch = $util.newBuffer([]);

            /**
             * Creates a new Delta instance using the specified properties.
             * @function create
             * @memberof replicant.v1.Delta
             * @static
             * @param {replicant.v1.IDelta=} [properties] Properties to set
             * @returns {replicant.v1.Delta} Delta instance
             */
            Delta.create = function create(properties) {
                return new Delta(properties);
            };

            /**
             * Encodes the specified Delta message. Does not implicitly {@link replicant.v1.Delta.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.Delta
             * @static
             * @param {replicant.v1.IDelta} m Delta message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Delta.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.doc != null && Object.hasOwnProperty.call(m, "doc"))
                    w.uint32(10).string(m.doc);
                if (m.seq != null && Object.hasOwnProperty.call(m, "seq"))
                    w.uint32(16).uint64(m.seq);
                if (m.prevSeq != null && Object.hasOwnProperty.call(m, "prevSeq"))
                    w.uint32(24).uint64(m.prevSeq);
                if (m.patch != null && Object.hasOwnProperty.call(m, "patch"))
                    w.uint32(34).bytes(m.patch);
                return w;
            };

            /**
             * Decodes a Delta message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.Delta
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.Delta} Delta
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Delta.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.Delta();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.doc = r.string();
                            break;
                        }
                    case 2: {
                            m.seq = r.uint64();
                            break;
                        }
                    case 3: {
                            m.prevSeq = r.uint64();
                            break;
                        }
                    case 4: {
                            m.patch = r.bytes();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for Delta
             * @function getTypeUrl
             * @memberof replicant.v1.Delta
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            Delta.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.Delta";
            };

            return Delta;
        })();

        v1.Ack = (function() {

            /**
             * Properties of an Ack.
             * @memberof replicant.v1
             * @interface IAck
             * @property {string|null} [id] Ack id
             * @property {Long|null} [seq] Ack seq
             */

            /**
             * Constructs a new Ack.
             * @memberof replicant.v1
             * @classdesc Represents an Ack.
             * @implements IAck
             * @constructor
             * @param {replicant.v1.IAck=} [p] Properties to set
             */
            function Ack(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * Ack id.
             * @member {string} id
             * @memberof replicant.v1.Ack
             * @instance
             */
            Ack.prototype.id = "";

            /**
             * Ack seq.
             * @member {Long} seq
             * @memberof replicant.v1.Ack
             * @instance
             */
            Ack.prototype.seq = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Creates a new Ack instance using the specified properties.
             * @function create
             * @memberof replicant.v1.Ack
             * @static
             * @param {replicant.v1.IAck=} [properties] Properties to set
             * @returns {replicant.v1.Ack} Ack instance
             */
            Ack.create = function create(properties) {
                return new Ack(properties);
            };

            /**
             * Encodes the specified Ack message. Does not implicitly {@link replicant.v1.Ack.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.Ack
             * @static
             * @param {replicant.v1.IAck} m Ack message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Ack.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.id != null && Object.hasOwnProperty.call(m, "id"))
                    w.uint32(10).string(m.id);
                if (m.seq != null && Object.hasOwnProperty.call(m, "seq"))
                    w.uint32(16).uint64(m.seq);
                return w;
            };

            /**
             * Decodes an Ack message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.Ack
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.Ack} Ack
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Ack.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.Ack();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.id = r.string();
                            break;
                        }
                    case 2: {
                            m.seq = r.uint64();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for Ack
             * @function getTypeUrl
             * @memberof replicant.v1.Ack
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            Ack.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.Ack";
            };

            return Ack;
        })();

        v1.Error = (function() {

            /**
             * Properties of an Error.
             * @memberof replicant.v1
             * @interface IError
             * @property {string|null} [code] Error code
             * @property {string|null} [message] Error message
             * @property {string|null} [doc] Error doc
             * @property {string|null} [id] Error id
             */

            /**
             * Constructs a new Error.
             * @memberof replicant.v1
             * @classdesc Represents an Error.
             * @implements IError
             * @constructor
             * @param {replicant.v1.IError=} [p] Properties to set
             */
            function Error(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * Error code.
             * @member {string} code
             * @memberof replicant.v1.Error
             * @instance
             */
            Error.prototype.code = "";

            /**
             * Error message.
             * @member {string} message
             * @memberof replicant.v1.Error
             * @instance
             */
            Error.prototype.message = "";

            /**
             * Error doc.
             * @member {string} doc
             * @memberof replicant.v1.Error
             * @instance
             */
            Error.prototype.doc = "";

            /**
             * Error id.
             * @member {string} id
             * @memberof replicant.v1.Error
             * @instance
             */
            Error.prototype.id = "";

            /**
             * Creates a new Error instance using the specified properties.
             * @function create
             * @memberof replicant.v1.Error
             * @static
             * @param {replicant.v1.IError=} [properties] Properties to set
             * @returns {replicant.v1.Error} Error instance
             */
            Error.create = function create(properties) {
                return new Error(properties);
            };

            /**
             * Encodes the specified Error message. Does not implicitly {@link replicant.v1.Error.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.Error
             * @static
             * @param {replicant.v1.IError} m Error message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Error.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.code != null && Object.hasOwnProperty.call(m, "code"))
                    w.uint32(10).string(m.code);
                if (m.message != null && Object.hasOwnProperty.call(m, "message"))
                    w.uint32(18).string(m.message);
                if (m.doc != null && Object.hasOwnProperty.call(m, "doc"))
                    w.uint32(26).string(m.doc);
                if (m.id != null && Object.hasOwnProperty.call(m, "id"))
                    w.uint32(34).string(m.id);
                return w;
            };

            /**
             * Decodes an Error message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.Error
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.Error} Error
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Error.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.Error();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.code = r.string();
                            break;
                        }
                    case 2: {
                            m.message = r.string();
                            break;
                        }
                    case 3: {
                            m.doc = r.string();
                            break;
                        }
                    case 4: {
                            m.id = r.string();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for Error
             * @function getTypeUrl
             * @memberof replicant.v1.Error
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            Error.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.Error";
            };

            return Error;
        })();

        v1.Goaway = (function() {

            /**
             * Properties of a Goaway.
             * @memberof replicant.v1
             * @interface IGoaway
             * @property {number|null} [reconnectMs] Goaway reconnectMs
             */

            /**
             * Constructs a new Goaway.
             * @memberof replicant.v1
             * @classdesc Represents a Goaway.
             * @implements IGoaway
             * @constructor
             * @param {replicant.v1.IGoaway=} [p] Properties to set
             */
            function Goaway(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * Goaway reconnectMs.
             * @member {number} reconnectMs
             * @memberof replicant.v1.Goaway
             * @instance
             */
            Goaway.prototype.reconnectMs = 0;

            /**
             * Creates a new Goaway instance using the specified properties.
             * @function create
             * @memberof replicant.v1.Goaway
             * @static
             * @param {replicant.v1.IGoaway=} [properties] Properties to set
             * @returns {replicant.v1.Goaway} Goaway instance
             */
            Goaway.create = function create(properties) {
                return new Goaway(properties);
            };

            /**
             * Encodes the specified Goaway message. Does not implicitly {@link replicant.v1.Goaway.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.Goaway
             * @static
             * @param {replicant.v1.IGoaway} m Goaway message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Goaway.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.reconnectMs != null && Object.hasOwnProperty.call(m, "reconnectMs"))
                    w.uint32(8).uint32(m.reconnectMs);
                return w;
            };

            /**
             * Decodes a Goaway message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.Goaway
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.Goaway} Goaway
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Goaway.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.Goaway();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.reconnectMs = r.uint32();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for Goaway
             * @function getTypeUrl
             * @memberof replicant.v1.Goaway
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            Goaway.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.Goaway";
            };

            return Goaway;
        })();

        v1.Pong = (function() {

            /**
             * Properties of a Pong.
             * @memberof replicant.v1
             * @interface IPong
             */

            /**
             * Constructs a new Pong.
             * @memberof replicant.v1
             * @classdesc Represents a Pong.
             * @implements IPong
             * @constructor
             * @param {replicant.v1.IPong=} [p] Properties to set
             */
            function Pong(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * Creates a new Pong instance using the specified properties.
             * @function create
             * @memberof replicant.v1.Pong
             * @static
             * @param {replicant.v1.IPong=} [properties] Properties to set
             * @returns {replicant.v1.Pong} Pong instance
             */
            Pong.create = function create(properties) {
                return new Pong(properties);
            };

            /**
             * Encodes the specified Pong message. Does not implicitly {@link replicant.v1.Pong.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.Pong
             * @static
             * @param {replicant.v1.IPong} m Pong message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Pong.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                return w;
            };

            /**
             * Decodes a Pong message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.Pong
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.Pong} Pong
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Pong.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.Pong();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for Pong
             * @function getTypeUrl
             * @memberof replicant.v1.Pong
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            Pong.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.Pong";
            };

            return Pong;
        })();

        v1.Welcome = (function() {

            /**
             * Properties of a Welcome.
             * @memberof replicant.v1
             * @interface IWelcome
             * @property {string|null} [connection] Welcome connection
             */

            /**
             * Constructs a new Welcome.
             * @memberof replicant.v1
             * @classdesc Represents a Welcome.
             * @implements IWelcome
             * @constructor
             * @param {replicant.v1.IWelcome=} [p] Properties to set
             */
            function Welcome(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * Welcome connection.
             * @member {string} connection
             * @memberof replicant.v1.Welcome
             * @instance
             */
            Welcome.prototype.connection = "";

            /**
             * Creates a new Welcome instance using the specified properties.
             * @function create
             * @memberof replicant.v1.Welcome
             * @static
             * @param {replicant.v1.IWelcome=} [properties] Properties to set
             * @returns {replicant.v1.Welcome} Welcome instance
             */
            Welcome.create = function create(properties) {
                return new Welcome(properties);
            };

            /**
             * Encodes the specified Welcome message. Does not implicitly {@link replicant.v1.Welcome.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.Welcome
             * @static
             * @param {replicant.v1.IWelcome} m Welcome message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Welcome.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.connection != null && Object.hasOwnProperty.call(m, "connection"))
                    w.uint32(10).string(m.connection);
                return w;
            };

            /**
             * Decodes a Welcome message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.Welcome
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.Welcome} Welcome
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Welcome.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.Welcome();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.connection = r.string();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for Welcome
             * @function getTypeUrl
             * @memberof replicant.v1.Welcome
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            Welcome.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.Welcome";
            };

            return Welcome;
        })();

        v1.Message = (function() {

            /**
             * Properties of a Message.
             * @memberof replicant.v1
             * @interface IMessage
             * @property {string|null} [id] Message id
             * @property {Uint8Array|null} [data] Message data
             */

            /**
             * Constructs a new Message.
             * @memberof replicant.v1
             * @classdesc Represents a Message.
             * @implements IMessage
             * @constructor
             * @param {replicant.v1.IMessage=} [p] Properties to set
             */
            function Message(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * Message id.
             * @member {string} id
             * @memberof replicant.v1.Message
             * @instance
             */
            Message.prototype.id = "";

            /**
             * Message data.
             * @member {Uint8Array} data
             * @memberof replicant.v1.Message
             * @instance
             */
            Message.prototype.data = $util.newBuffer([]);

            /**
             * Creates a new Message instance using the specified properties.
             * @function create
             * @memberof replicant.v1.Message
             * @static
             * @param {replicant.v1.IMessage=} [properties] Properties to set
             * @returns {replicant.v1.Message} Message instance
             */
            Message.create = function create(properties) {
                return new Message(properties);
            };

            /**
             * Encodes the specified Message message. Does not implicitly {@link replicant.v1.Message.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.Message
             * @static
             * @param {replicant.v1.IMessage} m Message message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Message.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.id != null && Object.hasOwnProperty.call(m, "id"))
                    w.uint32(10).string(m.id);
                if (m.data != null && Object.hasOwnProperty.call(m, "data"))
                    w.uint32(18).bytes(m.data);
                return w;
            };

            /**
             * Decodes a Message message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.Message
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.Message} Message
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Message.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.Message();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.id = r.string();
                            break;
                        }
                    case 2: {
                            m.data = r.bytes();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for Message
             * @function getTypeUrl
             * @memberof replicant.v1.Message
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            Message.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.Message";
            };

            return Message;
        })();

        v1.Disconnect = (function() {

            /**
             * Properties of a Disconnect.
             * @memberof replicant.v1
             * @interface IDisconnect
             * @property {boolean|null} [reconnect] Disconnect reconnect
             */

            /**
             * Constructs a new Disconnect.
             * @memberof replicant.v1
             * @classdesc Represents a Disconnect.
             * @implements IDisconnect
             * @constructor
             * @param {replicant.v1.IDisconnect=} [p] Properties to set
             */
            function Disconnect(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * Disconnect reconnect.
             * @member {boolean} reconnect
             * @memberof replicant.v1.Disconnect
             * @instance
             */
            Disconnect.prototype.reconnect = false;

            /**
             * Creates a new Disconnect instance using the specified properties.
             * @function create
             * @memberof replicant.v1.Disconnect
             * @static
             * @param {replicant.v1.IDisconnect=} [properties] Properties to set
             * @returns {replicant.v1.Disconnect} Disconnect instance
             */
            Disconnect.create = function create(properties) {
                return new Disconnect(properties);
            };

            /**
             * Encodes the specified Disconnect message. Does not implicitly {@link replicant.v1.Disconnect.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.Disconnect
             * @static
             * @param {replicant.v1.IDisconnect} m Disconnect message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Disconnect.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.reconnect != null && Object.hasOwnProperty.call(m, "reconnect"))
                    w.uint32(8).bool(m.reconnect);
                return w;
            };

            /**
             * Decodes a Disconnect message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.Disconnect
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.Disconnect} Disconnect
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Disconnect.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.Disconnect();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.reconnect = r.bool();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for Disconnect
             * @function getTypeUrl
             * @memberof replicant.v1.Disconnect
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            Disconnect.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.Disconnect";
            };

            return Disconnect;
        })();

        v1.ServerFrame = (function() {

            /**
             * Properties of a ServerFrame.
             * @memberof replicant.v1
             * @interface IServerFrame
             * @property {replicant.v1.ISnapshot|null} [snapshot] ServerFrame snapshot
             * @property {replicant.v1.IDelta|null} [delta] ServerFrame delta
             * @property {replicant.v1.IAck|null} [ack] ServerFrame ack
             * @property {replicant.v1.IError|null} [error] ServerFrame error
             * @property {replicant.v1.IGoaway|null} [goaway] ServerFrame goaway
             * @property {replicant.v1.IPong|null} [pong] ServerFrame pong
             * @property {replicant.v1.IWelcome|null} [welcome] ServerFrame welcome
             * @property {replicant.v1.IMessage|null} [message] ServerFrame message
             * @property {replicant.v1.IDisconnect|null} [disconnect] ServerFrame disconnect
             */

            /**
             * Constructs a new ServerFrame.
             * @memberof replicant.v1
             * @classdesc Represents a ServerFrame.
             * @implements IServerFrame
             * @constructor
             * @param {replicant.v1.IServerFrame=} [p] Properties to set
             */
            function ServerFrame(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * ServerFrame snapshot.
             * @member {replicant.v1.ISnapshot|null|undefined} snapshot
             * @memberof replicant.v1.ServerFrame
             * @instance
             */
            ServerFrame.prototype.snapshot = null;

            /**
             * ServerFrame delta.
             * @member {replicant.v1.IDelta|null|undefined} delta
             * @memberof replicant.v1.ServerFrame
             * @instance
             */
            ServerFrame.prototype.delta = null;

            /**
             * ServerFrame ack.
             * @member {replicant.v1.IAck|null|undefined} ack
             * @memberof replicant.v1.ServerFrame
             * @instance
             */
            ServerFrame.prototype.ack = null;

            /**
             * ServerFrame error.
             * @member {replicant.v1.IError|null|undefined} error
             * @memberof replicant.v1.ServerFrame
             * @instance
             */
            ServerFrame.prototype.error = null;

            /**
             * ServerFrame goaway.
             * @member {replicant.v1.IGoaway|null|undefined} goaway
             * @memberof replicant.v1.ServerFrame
             * @instance
             */
            ServerFrame.prototype.goaway = null;

            /**
             * ServerFrame pong.
             * @member {replicant.v1.IPong|null|undefined} pong
             * @memberof replicant.v1.ServerFrame
             * @instance
             */
            ServerFrame.prototype.pong = null;

            /**
             * ServerFrame welcome.
             * @member {replicant.v1.IWelcome|null|undefined} welcome
             * @memberof replicant.v1.ServerFrame
             * @instance
             */
            ServerFrame.prototype.welcome = null;

            /**
             * ServerFrame message.
             * @member {replicant.v1.IMessage|null|undefined} message
             * @memberof replicant.v1.ServerFrame
             * @instance
             */
            ServerFrame.prototype.message = null;

            /**
             * ServerFrame disconnect.
             * @member {replicant.v1.IDisconnect|null|undefined} disconnect
             * @memberof replicant.v1.ServerFrame
             * @instance
             */
            ServerFrame.prototype.disconnect = null;

            // OneOf field names bound to virtual getters and setters
            let $oneOfFields;

            /**
             * ServerFrame frame.
             * @member {"snapshot"|"delta"|"ack"|"error"|"goaway"|"pong"|"welcome"|"message"|"disconnect"|undefined} frame
             * @memberof replicant.v1.ServerFrame
             * @instance
             */
            Object.defineProperty(ServerFrame.prototype, "frame", {
                get: $util.oneOfGetter($oneOfFields = ["snapshot", "delta", "ack", "error", "goaway", "pong", "welcome", "message", "disconnect"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            /**
             * Creates a new ServerFrame instance using the specified properties.
             * @function create
             * @memberof replicant.v1.ServerFrame
             * @static
             * @param {replicant.v1.IServerFrame=} [properties] Properties to set
             * @returns {replicant.v1.ServerFrame} ServerFrame instance
             */
            ServerFrame.create = function create(properties) {
                return new ServerFrame(properties);
            };

            /**
             * Encodes the specified ServerFrame message. Does not implicitly {@link replicant.v1.ServerFrame.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.ServerFrame
             * @static
             * @param {replicant.v1.IServerFrame} m ServerFrame message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            ServerFrame.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.snapshot != null && Object.hasOwnProperty.call(m, "snapshot"))
                    $root.replicant.v1.Snapshot.encode(m.snapshot, w.uint32(10).fork(), q + 1).ldelim();
                if (m.delta != null && Object.hasOwnProperty.call(m, "delta"))
                    $root.replicant.v1.Delta.encode(m.delta, w.uint32(18).fork(), q + 1).ldelim();
                if (m.ack != null && Object.hasOwnProperty.call(m, "ack"))
                    $root.replicant.v1.Ack.encode(m.ack, w.uint32(26).fork(), q + 1).ldelim();
                if (m.error != null && Object.hasOwnProperty.call(m, "error"))
                    $root.replicant.v1.Error.encode(m.error, w.uint32(34).fork(), q + 1).ldelim();
                if (m.goaway != null && Object.hasOwnProperty.call(m, "goaway"))
                    $root.replicant.v1.Goaway.encode(m.goaway, w.uint32(42).fork(), q + 1).ldelim();
                if (m.pong != null && Object.hasOwnProperty.call(m, "pong"))
                    $root.replicant.v1.Pong.encode(m.pong, w.uint32(50).fork(), q + 1).ldelim();
                if (m.welcome != null && Object.hasOwnProperty.call(m, "welcome"))
                    $root.replicant.v1.Welcome.encode(m.welcome, w.uint32(58).fork(), q + 1).ldelim();
                if (m.message != null && Object.hasOwnProperty.call(m, "message"))
                    $root.replicant.v1.Message.encode(m.message, w.uint32(66).fork(), q + 1).ldelim();
                if (m.disconnect != null && Object.hasOwnProperty.call(m, "disconnect"))
                    $root.replicant.v1.Disconnect.encode(m.disconnect, w.uint32(74).fork(), q + 1).ldelim();
                return w;
            };

            /**
             * Decodes a ServerFrame message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.ServerFrame
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.ServerFrame} ServerFrame
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            ServerFrame.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.ServerFrame();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.snapshot = $root.replicant.v1.Snapshot.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 2: {
                            m.delta = $root.replicant.v1.Delta.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 3: {
                            m.ack = $root.replicant.v1.Ack.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 4: {
                            m.error = $root.replicant.v1.Error.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 5: {
                            m.goaway = $root.replicant.v1.Goaway.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 6: {
                            m.pong = $root.replicant.v1.Pong.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 7: {
                            m.welcome = $root.replicant.v1.Welcome.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 8: {
                            m.message = $root.replicant.v1.Message.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 9: {
                            m.disconnect = $root.replicant.v1.Disconnect.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for ServerFrame
             * @function getTypeUrl
             * @memberof replicant.v1.ServerFrame
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            ServerFrame.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.ServerFrame";
            };

            return ServerFrame;
        })();

        v1.Op = (function() {

            /**
             * Properties of an Op.
             * @memberof replicant.v1
             * @interface IOp
             * @property {Uint8Array|null} [patch] Op patch
             * @property {string|null} [key] Op key
             * @property {Long|null} [tsMs] Op tsMs
             * @property {Long|null} [ifSeq] Op ifSeq
             * @property {Long|null} [maxDocBytes] Op maxDocBytes
             * @property {boolean|null} [replace] Op replace
             */

            /**
             * Constructs a new Op.
             * @memberof replicant.v1
             * @classdesc Represents an Op.
             * @implements IOp
             * @constructor
             * @param {replicant.v1.IOp=} [p] Properties to set
             */
            function Op(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * Op patch.
             * @member {Uint8Array} patch
             * @memberof replicant.v1.Op
             * @instance
             */
            Op.prototype.patch = $util.newBuffer([]);

            /**
             * Op key.
             * @member {string} key
             * @memberof replicant.v1.Op
             * @instance
             */
            Op.prototype.key = "";

            /**
             * Op tsMs.
             * @member {Long} tsMs
             * @memberof replicant.v1.Op
             * @instance
             */
            Op.prototype.tsMs = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Op ifSeq.
             * @member {Long|null|undefined} ifSeq
             * @memberof replicant.v1.Op
             * @instance
             */
            Op.prototype.ifSeq = null;

            /**
             * Op maxDocBytes.
             * @member {Long|null|undefined} maxDocBytes
             * @memberof replicant.v1.Op
             * @instance
             */
            Op.prototype.maxDocBytes = null;

            /**
             * Op replace.
             * @member {boolean|null|undefined} replace
             * @memberof replicant.v1.Op
             * @instance
             */
            Op.prototype.replace = null;

            // OneOf field names bound to virtual getters and setters
            let $oneOfFields;

            // Virtual OneOf for proto3 optional field
            Object.defineProperty(Op.prototype, "_ifSeq", {
                get: $util.oneOfGetter($oneOfFields = ["ifSeq"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            // Virtual OneOf for proto3 optional field
            Object.defineProperty(Op.prototype, "_maxDocBytes", {
                get: $util.oneOfGetter($oneOfFields = ["maxDocBytes"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            // Virtual OneOf for proto3 optional field
            Object.defineProperty(Op.prototype, "_replace", {
                get: $util.oneOfGetter($oneOfFields = ["replace"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            /**
             * Creates a new Op instance using the specified properties.
             * @function create
             * @memberof replicant.v1.Op
             * @static
             * @param {replicant.v1.IOp=} [properties] Properties to set
             * @returns {replicant.v1.Op} Op instance
             */
            Op.create = function create(properties) {
                return new Op(properties);
            };

            /**
             * Encodes the specified Op message. Does not implicitly {@link replicant.v1.Op.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.Op
             * @static
             * @param {replicant.v1.IOp} m Op message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Op.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.patch != null && Object.hasOwnProperty.call(m, "patch"))
                    w.uint32(10).bytes(m.patch);
                if (m.key != null && Object.hasOwnProperty.call(m, "key"))
                    w.uint32(18).string(m.key);
                if (m.tsMs != null && Object.hasOwnProperty.call(m, "tsMs"))
                    w.uint32(24).uint64(m.tsMs);
                if (m.ifSeq != null && Object.hasOwnProperty.call(m, "ifSeq"))
                    w.uint32(32).uint64(m.ifSeq);
                if (m.maxDocBytes != null && Object.hasOwnProperty.call(m, "maxDocBytes"))
                    w.uint32(40).uint64(m.maxDocBytes);
                if (m.replace != null && Object.hasOwnProperty.call(m, "replace"))
                    w.uint32(48).bool(m.replace);
                return w;
            };

            /**
             * Decodes an Op message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.Op
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.Op} Op
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Op.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.Op();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.patch = r.bytes();
                            break;
                        }
                    case 2: {
                            m.key = r.string();
                            break;
                        }
                    case 3: {
                            m.tsMs = r.uint64();
                            break;
                        }
                    case 4: {
                            m.ifSeq = r.uint64();
                            break;
                        }
                    case 5: {
                            m.maxDocBytes = r.uint64();
                            break;
                        }
                    case 6: {
                            m.replace = r.bool();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for Op
             * @function getTypeUrl
             * @memberof replicant.v1.Op
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            Op.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.Op";
            };

            return Op;
        })();

        v1.LinkSubscribe = (function() {

            /**
             * Properties of a LinkSubscribe.
             * @memberof replicant.v1
             * @interface ILinkSubscribe
             * @property {string|null} [doc] LinkSubscribe doc
             * @property {Long|null} [lastSeq] LinkSubscribe lastSeq
             */

            /**
             * Constructs a new LinkSubscribe.
             * @memberof replicant.v1
             * @classdesc Represents a LinkSubscribe.
             * @implements ILinkSubscribe
             * @constructor
             * @param {replicant.v1.ILinkSubscribe=} [p] Properties to set
             */
            function LinkSubscribe(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * LinkSubscribe doc.
             * @member {string} doc
             * @memberof replicant.v1.LinkSubscribe
             * @instance
             */
            LinkSubscribe.prototype.doc = "";

            /**
             * LinkSubscribe lastSeq.
             * @member {Long|null|undefined} lastSeq
             * @memberof replicant.v1.LinkSubscribe
             * @instance
             */
            LinkSubscribe.prototype.lastSeq = null;

            // OneOf field names bound to virtual getters and setters
            let $oneOfFields;

            // Virtual OneOf for proto3 optional field
            Object.defineProperty(LinkSubscribe.prototype, "_lastSeq", {
                get: $util.oneOfGetter($oneOfFields = ["lastSeq"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            /**
             * Creates a new LinkSubscribe instance using the specified properties.
             * @function create
             * @memberof replicant.v1.LinkSubscribe
             * @static
             * @param {replicant.v1.ILinkSubscribe=} [properties] Properties to set
             * @returns {replicant.v1.LinkSubscribe} LinkSubscribe instance
             */
            LinkSubscribe.create = function create(properties) {
                return new LinkSubscribe(properties);
            };

            /**
             * Encodes the specified LinkSubscribe message. Does not implicitly {@link replicant.v1.LinkSubscribe.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.LinkSubscribe
             * @static
             * @param {replicant.v1.ILinkSubscribe} m LinkSubscribe message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            LinkSubscribe.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.doc != null && Object.hasOwnProperty.call(m, "doc"))
                    w.uint32(10).string(m.doc);
                if (m.lastSeq != null && Object.hasOwnProperty.call(m, "lastSeq"))
                    w.uint32(16).uint64(m.lastSeq);
                return w;
            };

            /**
             * Decodes a LinkSubscribe message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.LinkSubscribe
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.LinkSubscribe} LinkSubscribe
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            LinkSubscribe.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.LinkSubscribe();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.doc = r.string();
                            break;
                        }
                    case 2: {
                            m.lastSeq = r.uint64();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for LinkSubscribe
             * @function getTypeUrl
             * @memberof replicant.v1.LinkSubscribe
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            LinkSubscribe.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.LinkSubscribe";
            };

            return LinkSubscribe;
        })();

        v1.LinkUnsubscribe = (function() {

            /**
             * Properties of a LinkUnsubscribe.
             * @memberof replicant.v1
             * @interface ILinkUnsubscribe
             * @property {string|null} [doc] LinkUnsubscribe doc
             */

            /**
             * Constructs a new LinkUnsubscribe.
             * @memberof replicant.v1
             * @classdesc Represents a LinkUnsubscribe.
             * @implements ILinkUnsubscribe
             * @constructor
             * @param {replicant.v1.ILinkUnsubscribe=} [p] Properties to set
             */
            function LinkUnsubscribe(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * LinkUnsubscribe doc.
             * @member {string} doc
             * @memberof replicant.v1.LinkUnsubscribe
             * @instance
             */
            LinkUnsubscribe.prototype.doc = "";

            /**
             * Creates a new LinkUnsubscribe instance using the specified properties.
             * @function create
             * @memberof replicant.v1.LinkUnsubscribe
             * @static
             * @param {replicant.v1.ILinkUnsubscribe=} [properties] Properties to set
             * @returns {replicant.v1.LinkUnsubscribe} LinkUnsubscribe instance
             */
            LinkUnsubscribe.create = function create(properties) {
                return new LinkUnsubscribe(properties);
            };

            /**
             * Encodes the specified LinkUnsubscribe message. Does not implicitly {@link replicant.v1.LinkUnsubscribe.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.LinkUnsubscribe
             * @static
             * @param {replicant.v1.ILinkUnsubscribe} m LinkUnsubscribe message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            LinkUnsubscribe.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.doc != null && Object.hasOwnProperty.call(m, "doc"))
                    w.uint32(10).string(m.doc);
                return w;
            };

            /**
             * Decodes a LinkUnsubscribe message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.LinkUnsubscribe
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.LinkUnsubscribe} LinkUnsubscribe
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            LinkUnsubscribe.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.LinkUnsubscribe();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.doc = r.string();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for LinkUnsubscribe
             * @function getTypeUrl
             * @memberof replicant.v1.LinkUnsubscribe
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            LinkUnsubscribe.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.LinkUnsubscribe";
            };

            return LinkUnsubscribe;
        })();

        v1.LinkCredit = (function() {

            /**
             * Properties of a LinkCredit.
             * @memberof replicant.v1
             * @interface ILinkCredit
             * @property {number|null} [n] LinkCredit n
             */

            /**
             * Constructs a new LinkCredit.
             * @memberof replicant.v1
             * @classdesc Represents a LinkCredit.
             * @implements ILinkCredit
             * @constructor
             * @param {replicant.v1.ILinkCredit=} [p] Properties to set
             */
            function LinkCredit(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * LinkCredit n.
             * @member {number} n
             * @memberof replicant.v1.LinkCredit
             * @instance
             */
            LinkCredit.prototype.n = 0;

            /**
             * Creates a new LinkCredit instance using the specified properties.
             * @function create
             * @memberof replicant.v1.LinkCredit
             * @static
             * @param {replicant.v1.ILinkCredit=} [properties] Properties to set
             * @returns {replicant.v1.LinkCredit} LinkCredit instance
             */
            LinkCredit.create = function create(properties) {
                return new LinkCredit(properties);
            };

            /**
             * Encodes the specified LinkCredit message. Does not implicitly {@link replicant.v1.LinkCredit.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.LinkCredit
             * @static
             * @param {replicant.v1.ILinkCredit} m LinkCredit message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            LinkCredit.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.n != null && Object.hasOwnProperty.call(m, "n"))
                    w.uint32(8).uint32(m.n);
                return w;
            };

            /**
             * Decodes a LinkCredit message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.LinkCredit
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.LinkCredit} LinkCredit
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            LinkCredit.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.LinkCredit();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.n = r.uint32();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for LinkCredit
             * @function getTypeUrl
             * @memberof replicant.v1.LinkCredit
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            LinkCredit.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.LinkCredit";
            };

            return LinkCredit;
        })();

        v1.LinkHello = (function() {

            /**
             * Properties of a LinkHello.
             * @memberof replicant.v1
             * @interface ILinkHello
             * @property {string|null} [nodeId] LinkHello nodeId
             * @property {number|null} [window] LinkHello window
             */

            /**
             * Constructs a new LinkHello.
             * @memberof replicant.v1
             * @classdesc Represents a LinkHello.
             * @implements ILinkHello
             * @constructor
             * @param {replicant.v1.ILinkHello=} [p] Properties to set
             */
            function LinkHello(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * LinkHello nodeId.
             * @member {string} nodeId
             * @memberof replicant.v1.LinkHello
             * @instance
             */
            LinkHello.prototype.nodeId = "";

            /**
             * LinkHello window.
             * @member {number} window
             * @memberof replicant.v1.LinkHello
             * @instance
             */
            LinkHello.prototype.window = 0;

            /**
             * Creates a new LinkHello instance using the specified properties.
             * @function create
             * @memberof replicant.v1.LinkHello
             * @static
             * @param {replicant.v1.ILinkHello=} [properties] Properties to set
             * @returns {replicant.v1.LinkHello} LinkHello instance
             */
            LinkHello.create = function create(properties) {
                return new LinkHello(properties);
            };

            /**
             * Encodes the specified LinkHello message. Does not implicitly {@link replicant.v1.LinkHello.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.LinkHello
             * @static
             * @param {replicant.v1.ILinkHello} m LinkHello message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            LinkHello.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.nodeId != null && Object.hasOwnProperty.call(m, "nodeId"))
                    w.uint32(10).string(m.nodeId);
                if (m.window != null && Object.hasOwnProperty.call(m, "window"))
                    w.uint32(16).uint32(m.window);
                return w;
            };

            /**
             * Decodes a LinkHello message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.LinkHello
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.LinkHello} LinkHello
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            LinkHello.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.LinkHello();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.nodeId = r.string();
                            break;
                        }
                    case 2: {
                            m.window = r.uint32();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for LinkHello
             * @function getTypeUrl
             * @memberof replicant.v1.LinkHello
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            LinkHello.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.LinkHello";
            };

            return LinkHello;
        })();

        v1.LinkSnapshot = (function() {

            /**
             * Properties of a LinkSnapshot.
             * @memberof replicant.v1
             * @interface ILinkSnapshot
             * @property {string|null} [doc] LinkSnapshot doc
             * @property {Long|null} [seq] LinkSnapshot seq
             * @property {Uint8Array|null} [state] LinkSnapshot state
             * @property {Array.<replicant.v1.ILinkDelta>|null} [history] LinkSnapshot history
             */

            /**
             * Constructs a new LinkSnapshot.
             * @memberof replicant.v1
             * @classdesc Represents a LinkSnapshot.
             * @implements ILinkSnapshot
             * @constructor
             * @param {replicant.v1.ILinkSnapshot=} [p] Properties to set
             */
            function LinkSnapshot(p) {
                this.history = [];
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * LinkSnapshot doc.
             * @member {string} doc
             * @memberof replicant.v1.LinkSnapshot
             * @instance
             */
            LinkSnapshot.prototype.doc = "";

            /**
             * LinkSnapshot seq.
             * @member {Long} seq
             * @memberof replicant.v1.LinkSnapshot
             * @instance
             */
            LinkSnapshot.prototype.seq = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * LinkSnapshot state.
             * @member {Uint8Array} state
             * @memberof replicant.v1.LinkSnapshot
             * @instance
             */
            LinkSnapshot.prototype.state = $util.newBuffer([]);

            /**
             * LinkSnapshot history.
             * @member {Array.<replicant.v1.ILinkDelta>} history
             * @memberof replicant.v1.LinkSnapshot
             * @instance
             */
            LinkSnapshot.prototype.history = $util.emptyArray;

            /**
             * Creates a new LinkSnapshot instance using the specified properties.
             * @function create
             * @memberof replicant.v1.LinkSnapshot
             * @static
             * @param {replicant.v1.ILinkSnapshot=} [properties] Properties to set
             * @returns {replicant.v1.LinkSnapshot} LinkSnapshot instance
             */
            LinkSnapshot.create = function create(properties) {
                return new LinkSnapshot(properties);
            };

            /**
             * Encodes the specified LinkSnapshot message. Does not implicitly {@link replicant.v1.LinkSnapshot.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.LinkSnapshot
             * @static
             * @param {replicant.v1.ILinkSnapshot} m LinkSnapshot message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            LinkSnapshot.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.doc != null && Object.hasOwnProperty.call(m, "doc"))
                    w.uint32(10).string(m.doc);
                if (m.seq != null && Object.hasOwnProperty.call(m, "seq"))
                    w.uint32(16).uint64(m.seq);
                if (m.state != null && Object.hasOwnProperty.call(m, "state"))
                    w.uint32(26).bytes(m.state);
                if (m.history != null && m.history.length) {
                    for (var i = 0; i < m.history.length; ++i)
                        $root.replicant.v1.LinkDelta.encode(m.history[i], w.uint32(34).fork(), q + 1).ldelim();
                }
                return w;
            };

            /**
             * Decodes a LinkSnapshot message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.LinkSnapshot
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.LinkSnapshot} LinkSnapshot
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            LinkSnapshot.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.LinkSnapshot();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.doc = r.string();
                            break;
                        }
                    case 2: {
                            m.seq = r.uint64();
                            break;
                        }
                    case 3: {
                            m.state = r.bytes();
                            break;
                        }
                    case 4: {
                            if (!(m.history && m.history.length))
                                m.history = [];
                            m.history.push($root.replicant.v1.LinkDelta.decode(r, r.uint32(), undefined, n + 1));
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for LinkSnapshot
             * @function getTypeUrl
             * @memberof replicant.v1.LinkSnapshot
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            LinkSnapshot.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.LinkSnapshot";
            };

            return LinkSnapshot;
        })();

        v1.LinkDelta = (function() {

            /**
             * Properties of a LinkDelta.
             * @memberof replicant.v1
             * @interface ILinkDelta
             * @property {string|null} [doc] LinkDelta doc
             * @property {Long|null} [seq] LinkDelta seq
             * @property {Long|null} [prevSeq] LinkDelta prevSeq
             * @property {Uint8Array|null} [patch] LinkDelta patch
             * @property {Long|null} [tsMs] LinkDelta tsMs
             */

            /**
             * Constructs a new LinkDelta.
             * @memberof replicant.v1
             * @classdesc Represents a LinkDelta.
             * @implements ILinkDelta
             * @constructor
             * @param {replicant.v1.ILinkDelta=} [p] Properties to set
             */
            function LinkDelta(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * LinkDelta doc.
             * @member {string} doc
             * @memberof replicant.v1.LinkDelta
             * @instance
             */
            LinkDelta.prototype.doc = "";

            /**
             * LinkDelta seq.
             * @member {Long} seq
             * @memberof replicant.v1.LinkDelta
             * @instance
             */
            LinkDelta.prototype.seq = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * LinkDelta prevSeq.
             * @member {Long} prevSeq
             * @memberof replicant.v1.LinkDelta
             * @instance
             */
            LinkDelta.prototype.prevSeq = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * LinkDelta patch.
             * @member {Uint8Array} patch
             * @memberof replicant.v1.LinkDelta
             * @instance
             */
            LinkDelta.prototype.patch = $util.newBuffer([]);

            /**
             * LinkDelta tsMs.
             * @member {Long} tsMs
             * @memberof replicant.v1.LinkDelta
             * @instance
             */
            LinkDelta.prototype.tsMs = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Creates a new LinkDelta instance using the specified properties.
             * @function create
             * @memberof replicant.v1.LinkDelta
             * @static
             * @param {replicant.v1.ILinkDelta=} [properties] Properties to set
             * @returns {replicant.v1.LinkDelta} LinkDelta instance
             */
            LinkDelta.create = function create(properties) {
                return new LinkDelta(properties);
            };

            /**
             * Encodes the specified LinkDelta message. Does not implicitly {@link replicant.v1.LinkDelta.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.LinkDelta
             * @static
             * @param {replicant.v1.ILinkDelta} m LinkDelta message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            LinkDelta.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.doc != null && Object.hasOwnProperty.call(m, "doc"))
                    w.uint32(10).string(m.doc);
                if (m.seq != null && Object.hasOwnProperty.call(m, "seq"))
                    w.uint32(16).uint64(m.seq);
                if (m.prevSeq != null && Object.hasOwnProperty.call(m, "prevSeq"))
                    w.uint32(24).uint64(m.prevSeq);
                if (m.patch != null && Object.hasOwnProperty.call(m, "patch"))
                    w.uint32(34).bytes(m.patch);
                if (m.tsMs != null && Object.hasOwnProperty.call(m, "tsMs"))
                    w.uint32(40).uint64(m.tsMs);
                return w;
            };

            /**
             * Decodes a LinkDelta message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.LinkDelta
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.LinkDelta} LinkDelta
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            LinkDelta.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.LinkDelta();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.doc = r.string();
                            break;
                        }
                    case 2: {
                            m.seq = r.uint64();
                            break;
                        }
                    case 3: {
                            m.prevSeq = r.uint64();
                            break;
                        }
                    case 4: {
                            m.patch = r.bytes();
                            break;
                        }
                    case 5: {
                            m.tsMs = r.uint64();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for LinkDelta
             * @function getTypeUrl
             * @memberof replicant.v1.LinkDelta
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            LinkDelta.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.LinkDelta";
            };

            return LinkDelta;
        })();

        v1.LinkError = (function() {

            /**
             * Properties of a LinkError.
             * @memberof replicant.v1
             * @interface ILinkError
             * @property {string|null} [doc] LinkError doc
             * @property {string|null} [code] LinkError code
             * @property {string|null} [message] LinkError message
             */

            /**
             * Constructs a new LinkError.
             * @memberof replicant.v1
             * @classdesc Represents a LinkError.
             * @implements ILinkError
             * @constructor
             * @param {replicant.v1.ILinkError=} [p] Properties to set
             */
            function LinkError(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * LinkError doc.
             * @member {string} doc
             * @memberof replicant.v1.LinkError
             * @instance
             */
            LinkError.prototype.doc = "";

            /**
             * LinkError code.
             * @member {string} code
             * @memberof replicant.v1.LinkError
             * @instance
             */
            LinkError.prototype.code = "";

            /**
             * LinkError message.
             * @member {string} message
             * @memberof replicant.v1.LinkError
             * @instance
             */
            LinkError.prototype.message = "";

            /**
             * Creates a new LinkError instance using the specified properties.
             * @function create
             * @memberof replicant.v1.LinkError
             * @static
             * @param {replicant.v1.ILinkError=} [properties] Properties to set
             * @returns {replicant.v1.LinkError} LinkError instance
             */
            LinkError.create = function create(properties) {
                return new LinkError(properties);
            };

            /**
             * Encodes the specified LinkError message. Does not implicitly {@link replicant.v1.LinkError.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.LinkError
             * @static
             * @param {replicant.v1.ILinkError} m LinkError message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            LinkError.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.doc != null && Object.hasOwnProperty.call(m, "doc"))
                    w.uint32(10).string(m.doc);
                if (m.code != null && Object.hasOwnProperty.call(m, "code"))
                    w.uint32(18).string(m.code);
                if (m.message != null && Object.hasOwnProperty.call(m, "message"))
                    w.uint32(26).string(m.message);
                return w;
            };

            /**
             * Decodes a LinkError message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.LinkError
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.LinkError} LinkError
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            LinkError.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.LinkError();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.doc = r.string();
                            break;
                        }
                    case 2: {
                            m.code = r.string();
                            break;
                        }
                    case 3: {
                            m.message = r.string();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for LinkError
             * @function getTypeUrl
             * @memberof replicant.v1.LinkError
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            LinkError.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.LinkError";
            };

            return LinkError;
        })();

        v1.LinkHot = (function() {

            /**
             * Properties of a LinkHot.
             * @memberof replicant.v1
             * @interface ILinkHot
             * @property {string|null} [doc] LinkHot doc
             * @property {number|null} [spread] LinkHot spread
             * @property {number|null} [slot] LinkHot slot
             */

            /**
             * Constructs a new LinkHot.
             * @memberof replicant.v1
             * @classdesc Represents a LinkHot.
             * @implements ILinkHot
             * @constructor
             * @param {replicant.v1.ILinkHot=} [p] Properties to set
             */
            function LinkHot(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * LinkHot doc.
             * @member {string} doc
             * @memberof replicant.v1.LinkHot
             * @instance
             */
            LinkHot.prototype.doc = "";

            /**
             * LinkHot spread.
             * @member {number} spread
             * @memberof replicant.v1.LinkHot
             * @instance
             */
            LinkHot.prototype.spread = 0;

            /**
             * LinkHot slot.
             * @member {number} slot
             * @memberof replicant.v1.LinkHot
             * @instance
             */
            LinkHot.prototype.slot = 0;

            /**
             * Creates a new LinkHot instance using the specified properties.
             * @function create
             * @memberof replicant.v1.LinkHot
             * @static
             * @param {replicant.v1.ILinkHot=} [properties] Properties to set
             * @returns {replicant.v1.LinkHot} LinkHot instance
             */
            LinkHot.create = function create(properties) {
                return new LinkHot(properties);
            };

            /**
             * Encodes the specified LinkHot message. Does not implicitly {@link replicant.v1.LinkHot.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.LinkHot
             * @static
             * @param {replicant.v1.ILinkHot} m LinkHot message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            LinkHot.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.doc != null && Object.hasOwnProperty.call(m, "doc"))
                    w.uint32(10).string(m.doc);
                if (m.spread != null && Object.hasOwnProperty.call(m, "spread"))
                    w.uint32(16).uint32(m.spread);
                if (m.slot != null && Object.hasOwnProperty.call(m, "slot"))
                    w.uint32(24).uint32(m.slot);
                return w;
            };

            /**
             * Decodes a LinkHot message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.LinkHot
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.LinkHot} LinkHot
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            LinkHot.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.LinkHot();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.doc = r.string();
                            break;
                        }
                    case 2: {
                            m.spread = r.uint32();
                            break;
                        }
                    case 3: {
                            m.slot = r.uint32();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for LinkHot
             * @function getTypeUrl
             * @memberof replicant.v1.LinkHot
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            LinkHot.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.LinkHot";
            };

            return LinkHot;
        })();

        v1.LinkChallenge = (function() {

            /**
             * Properties of a LinkChallenge.
             * @memberof replicant.v1
             * @interface ILinkChallenge
             * @property {Uint8Array|null} [nonce] LinkChallenge nonce
             */

            /**
             * Constructs a new LinkChallenge.
             * @memberof replicant.v1
             * @classdesc Represents a LinkChallenge.
             * @implements ILinkChallenge
             * @constructor
             * @param {replicant.v1.ILinkChallenge=} [p] Properties to set
             */
            function LinkChallenge(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * LinkChallenge nonce.
             * @member {Uint8Array} nonce
             * @memberof replicant.v1.LinkChallenge
             * @instance
             */
            LinkChallenge.prototype.nonce = $util.newBuffer([]);

            /**
             * Creates a new LinkChallenge instance using the specified properties.
             * @function create
             * @memberof replicant.v1.LinkChallenge
             * @static
             * @param {replicant.v1.ILinkChallenge=} [properties] Properties to set
             * @returns {replicant.v1.LinkChallenge} LinkChallenge instance
             */
            LinkChallenge.create = function create(properties) {
                return new LinkChallenge(properties);
            };

            /**
             * Encodes the specified LinkChallenge message. Does not implicitly {@link replicant.v1.LinkChallenge.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.LinkChallenge
             * @static
             * @param {replicant.v1.ILinkChallenge} m LinkChallenge message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            LinkChallenge.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.nonce != null && Object.hasOwnProperty.call(m, "nonce"))
                    w.uint32(10).bytes(m.nonce);
                return w;
            };

            /**
             * Decodes a LinkChallenge message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.LinkChallenge
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.LinkChallenge} LinkChallenge
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            LinkChallenge.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.LinkChallenge();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.nonce = r.bytes();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for LinkChallenge
             * @function getTypeUrl
             * @memberof replicant.v1.LinkChallenge
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            LinkChallenge.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.LinkChallenge";
            };

            return LinkChallenge;
        })();

        v1.LinkAuth = (function() {

            /**
             * Properties of a LinkAuth.
             * @memberof replicant.v1
             * @interface ILinkAuth
             * @property {Uint8Array|null} [nonce] LinkAuth nonce
             * @property {Uint8Array|null} [proof] LinkAuth proof
             */

            /**
             * Constructs a new LinkAuth.
             * @memberof replicant.v1
             * @classdesc Represents a LinkAuth.
             * @implements ILinkAuth
             * @constructor
             * @param {replicant.v1.ILinkAuth=} [p] Properties to set
             */
            function LinkAuth(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * LinkAuth nonce.
             * @member {Uint8Array} nonce
             * @memberof replicant.v1.LinkAuth
             * @instance
             */
            LinkAuth.prototype.nonce = $util.newBuffer([]);

            /**
             * LinkAuth proof.
             * @member {Uint8Array} proof
             * @memberof replicant.v1.LinkAuth
             * @instance
             */
            LinkAuth.prototype.proof = $util.newBuffer([]);

            /**
             * Creates a new LinkAuth instance using the specified properties.
             * @function create
             * @memberof replicant.v1.LinkAuth
             * @static
             * @param {replicant.v1.ILinkAuth=} [properties] Properties to set
             * @returns {replicant.v1.LinkAuth} LinkAuth instance
             */
            LinkAuth.create = function create(properties) {
                return new LinkAuth(properties);
            };

            /**
             * Encodes the specified LinkAuth message. Does not implicitly {@link replicant.v1.LinkAuth.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.LinkAuth
             * @static
             * @param {replicant.v1.ILinkAuth} m LinkAuth message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            LinkAuth.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.nonce != null && Object.hasOwnProperty.call(m, "nonce"))
                    w.uint32(10).bytes(m.nonce);
                if (m.proof != null && Object.hasOwnProperty.call(m, "proof"))
                    w.uint32(18).bytes(m.proof);
                return w;
            };

            /**
             * Decodes a LinkAuth message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.LinkAuth
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.LinkAuth} LinkAuth
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            LinkAuth.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.LinkAuth();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.nonce = r.bytes();
                            break;
                        }
                    case 2: {
                            m.proof = r.bytes();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for LinkAuth
             * @function getTypeUrl
             * @memberof replicant.v1.LinkAuth
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            LinkAuth.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.LinkAuth";
            };

            return LinkAuth;
        })();

        v1.LinkAuthOk = (function() {

            /**
             * Properties of a LinkAuthOk.
             * @memberof replicant.v1
             * @interface ILinkAuthOk
             * @property {Uint8Array|null} [proof] LinkAuthOk proof
             */

            /**
             * Constructs a new LinkAuthOk.
             * @memberof replicant.v1
             * @classdesc Represents a LinkAuthOk.
             * @implements ILinkAuthOk
             * @constructor
             * @param {replicant.v1.ILinkAuthOk=} [p] Properties to set
             */
            function LinkAuthOk(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * LinkAuthOk proof.
             * @member {Uint8Array} proof
             * @memberof replicant.v1.LinkAuthOk
             * @instance
             */
            LinkAuthOk.prototype.proof = $util.newBuffer([]);

            /**
             * Creates a new LinkAuthOk instance using the specified properties.
             * @function create
             * @memberof replicant.v1.LinkAuthOk
             * @static
             * @param {replicant.v1.ILinkAuthOk=} [properties] Properties to set
             * @returns {replicant.v1.LinkAuthOk} LinkAuthOk instance
             */
            LinkAuthOk.create = function create(properties) {
                return new LinkAuthOk(properties);
            };

            /**
             * Encodes the specified LinkAuthOk message. Does not implicitly {@link replicant.v1.LinkAuthOk.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.LinkAuthOk
             * @static
             * @param {replicant.v1.ILinkAuthOk} m LinkAuthOk message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            LinkAuthOk.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.proof != null && Object.hasOwnProperty.call(m, "proof"))
                    w.uint32(10).bytes(m.proof);
                return w;
            };

            /**
             * Decodes a LinkAuthOk message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.LinkAuthOk
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.LinkAuthOk} LinkAuthOk
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            LinkAuthOk.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.LinkAuthOk();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.proof = r.bytes();
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for LinkAuthOk
             * @function getTypeUrl
             * @memberof replicant.v1.LinkAuthOk
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            LinkAuthOk.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.LinkAuthOk";
            };

            return LinkAuthOk;
        })();

        v1.LinkFrame = (function() {

            /**
             * Properties of a LinkFrame.
             * @memberof replicant.v1
             * @interface ILinkFrame
             * @property {replicant.v1.ILinkHello|null} [hello] LinkFrame hello
             * @property {replicant.v1.ILinkSubscribe|null} [subscribe] LinkFrame subscribe
             * @property {replicant.v1.ILinkUnsubscribe|null} [unsubscribe] LinkFrame unsubscribe
             * @property {replicant.v1.ILinkCredit|null} [credit] LinkFrame credit
             * @property {replicant.v1.ILinkSnapshot|null} [snapshot] LinkFrame snapshot
             * @property {replicant.v1.ILinkDelta|null} [delta] LinkFrame delta
             * @property {replicant.v1.ILinkError|null} [error] LinkFrame error
             * @property {replicant.v1.ILinkHot|null} [hot] LinkFrame hot
             * @property {replicant.v1.ILinkChallenge|null} [challenge] LinkFrame challenge
             * @property {replicant.v1.ILinkAuth|null} [auth] LinkFrame auth
             * @property {replicant.v1.ILinkAuthOk|null} [authOk] LinkFrame authOk
             */

            /**
             * Constructs a new LinkFrame.
             * @memberof replicant.v1
             * @classdesc Represents a LinkFrame.
             * @implements ILinkFrame
             * @constructor
             * @param {replicant.v1.ILinkFrame=} [p] Properties to set
             */
            function LinkFrame(p) {
                if (p)
                    for (var ks = Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            }

            /**
             * LinkFrame hello.
             * @member {replicant.v1.ILinkHello|null|undefined} hello
             * @memberof replicant.v1.LinkFrame
             * @instance
             */
            LinkFrame.prototype.hello = null;

            /**
             * LinkFrame subscribe.
             * @member {replicant.v1.ILinkSubscribe|null|undefined} subscribe
             * @memberof replicant.v1.LinkFrame
             * @instance
             */
            LinkFrame.prototype.subscribe = null;

            /**
             * LinkFrame unsubscribe.
             * @member {replicant.v1.ILinkUnsubscribe|null|undefined} unsubscribe
             * @memberof replicant.v1.LinkFrame
             * @instance
             */
            LinkFrame.prototype.unsubscribe = null;

            /**
             * LinkFrame credit.
             * @member {replicant.v1.ILinkCredit|null|undefined} credit
             * @memberof replicant.v1.LinkFrame
             * @instance
             */
            LinkFrame.prototype.credit = null;

            /**
             * LinkFrame snapshot.
             * @member {replicant.v1.ILinkSnapshot|null|undefined} snapshot
             * @memberof replicant.v1.LinkFrame
             * @instance
             */
            LinkFrame.prototype.snapshot = null;

            /**
             * LinkFrame delta.
             * @member {replicant.v1.ILinkDelta|null|undefined} delta
             * @memberof replicant.v1.LinkFrame
             * @instance
             */
            LinkFrame.prototype.delta = null;

            /**
             * LinkFrame error.
             * @member {replicant.v1.ILinkError|null|undefined} error
             * @memberof replicant.v1.LinkFrame
             * @instance
             */
            LinkFrame.prototype.error = null;

            /**
             * LinkFrame hot.
             * @member {replicant.v1.ILinkHot|null|undefined} hot
             * @memberof replicant.v1.LinkFrame
             * @instance
             */
            LinkFrame.prototype.hot = null;

            /**
             * LinkFrame challenge.
             * @member {replicant.v1.ILinkChallenge|null|undefined} challenge
             * @memberof replicant.v1.LinkFrame
             * @instance
             */
            LinkFrame.prototype.challenge = null;

            /**
             * LinkFrame auth.
             * @member {replicant.v1.ILinkAuth|null|undefined} auth
             * @memberof replicant.v1.LinkFrame
             * @instance
             */
            LinkFrame.prototype.auth = null;

            /**
             * LinkFrame authOk.
             * @member {replicant.v1.ILinkAuthOk|null|undefined} authOk
             * @memberof replicant.v1.LinkFrame
             * @instance
             */
            LinkFrame.prototype.authOk = null;

            // OneOf field names bound to virtual getters and setters
            let $oneOfFields;

            /**
             * LinkFrame frame.
             * @member {"hello"|"subscribe"|"unsubscribe"|"credit"|"snapshot"|"delta"|"error"|"hot"|"challenge"|"auth"|"authOk"|undefined} frame
             * @memberof replicant.v1.LinkFrame
             * @instance
             */
            Object.defineProperty(LinkFrame.prototype, "frame", {
                get: $util.oneOfGetter($oneOfFields = ["hello", "subscribe", "unsubscribe", "credit", "snapshot", "delta", "error", "hot", "challenge", "auth", "authOk"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            /**
             * Creates a new LinkFrame instance using the specified properties.
             * @function create
             * @memberof replicant.v1.LinkFrame
             * @static
             * @param {replicant.v1.ILinkFrame=} [properties] Properties to set
             * @returns {replicant.v1.LinkFrame} LinkFrame instance
             */
            LinkFrame.create = function create(properties) {
                return new LinkFrame(properties);
            };

            /**
             * Encodes the specified LinkFrame message. Does not implicitly {@link replicant.v1.LinkFrame.verify|verify} messages.
             * @function encode
             * @memberof replicant.v1.LinkFrame
             * @static
             * @param {replicant.v1.ILinkFrame} m LinkFrame message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            LinkFrame.encode = function encode(m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (m.hello != null && Object.hasOwnProperty.call(m, "hello"))
                    $root.replicant.v1.LinkHello.encode(m.hello, w.uint32(10).fork(), q + 1).ldelim();
                if (m.subscribe != null && Object.hasOwnProperty.call(m, "subscribe"))
                    $root.replicant.v1.LinkSubscribe.encode(m.subscribe, w.uint32(18).fork(), q + 1).ldelim();
                if (m.unsubscribe != null && Object.hasOwnProperty.call(m, "unsubscribe"))
                    $root.replicant.v1.LinkUnsubscribe.encode(m.unsubscribe, w.uint32(26).fork(), q + 1).ldelim();
                if (m.credit != null && Object.hasOwnProperty.call(m, "credit"))
                    $root.replicant.v1.LinkCredit.encode(m.credit, w.uint32(34).fork(), q + 1).ldelim();
                if (m.snapshot != null && Object.hasOwnProperty.call(m, "snapshot"))
                    $root.replicant.v1.LinkSnapshot.encode(m.snapshot, w.uint32(42).fork(), q + 1).ldelim();
                if (m.delta != null && Object.hasOwnProperty.call(m, "delta"))
                    $root.replicant.v1.LinkDelta.encode(m.delta, w.uint32(50).fork(), q + 1).ldelim();
                if (m.error != null && Object.hasOwnProperty.call(m, "error"))
                    $root.replicant.v1.LinkError.encode(m.error, w.uint32(58).fork(), q + 1).ldelim();
                if (m.hot != null && Object.hasOwnProperty.call(m, "hot"))
                    $root.replicant.v1.LinkHot.encode(m.hot, w.uint32(66).fork(), q + 1).ldelim();
                if (m.challenge != null && Object.hasOwnProperty.call(m, "challenge"))
                    $root.replicant.v1.LinkChallenge.encode(m.challenge, w.uint32(74).fork(), q + 1).ldelim();
                if (m.auth != null && Object.hasOwnProperty.call(m, "auth"))
                    $root.replicant.v1.LinkAuth.encode(m.auth, w.uint32(82).fork(), q + 1).ldelim();
                if (m.authOk != null && Object.hasOwnProperty.call(m, "authOk"))
                    $root.replicant.v1.LinkAuthOk.encode(m.authOk, w.uint32(90).fork(), q + 1).ldelim();
                return w;
            };

            /**
             * Decodes a LinkFrame message from the specified reader or buffer.
             * @function decode
             * @memberof replicant.v1.LinkFrame
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {replicant.v1.LinkFrame} LinkFrame
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            LinkFrame.decode = function decode(r, l, e, n) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (n === undefined)
                    n = 0;
                if (n > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var c, m;
                if (l === undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = new $root.replicant.v1.LinkFrame();
                while (r.pos < c) {
                    var t = r.uint32();
                    if (t === e)
                        break;
                    switch (t >>> 3) {
                    case 1: {
                            m.hello = $root.replicant.v1.LinkHello.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 2: {
                            m.subscribe = $root.replicant.v1.LinkSubscribe.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 3: {
                            m.unsubscribe = $root.replicant.v1.LinkUnsubscribe.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 4: {
                            m.credit = $root.replicant.v1.LinkCredit.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 5: {
                            m.snapshot = $root.replicant.v1.LinkSnapshot.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 6: {
                            m.delta = $root.replicant.v1.LinkDelta.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 7: {
                            m.error = $root.replicant.v1.LinkError.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 8: {
                            m.hot = $root.replicant.v1.LinkHot.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 9: {
                            m.challenge = $root.replicant.v1.LinkChallenge.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 10: {
                            m.auth = $root.replicant.v1.LinkAuth.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    case 11: {
                            m.authOk = $root.replicant.v1.LinkAuthOk.decode(r, r.uint32(), undefined, n + 1);
                            break;
                        }
                    default:
                        r.skipType(t & 7, n);
                        break;
                    }
                }
                if (l !== undefined) {
                    if (r.pos !== c)
                        throw RangeError("index out of range");
                    r.len = l;
                }
                return m;
            };

            /**
             * Gets the default type url for LinkFrame
             * @function getTypeUrl
             * @memberof replicant.v1.LinkFrame
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            LinkFrame.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/replicant.v1.LinkFrame";
            };

            return LinkFrame;
        })();

        return v1;
    })();

    return replicant;
})();

export { $root as default };
