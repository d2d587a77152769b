// Numbers of constant HCL expressions, kept exact as fractions of big integers. Terraform
// computes with 512-bit binary floats, so its results and these agree far beyond what a
// default can hold (a double, once JSON-encoded); the one place the difference would show is
// a fraction without a finite decimal form (1/3) turned into text, where Terraform prints its
// 512-bit approximation (about 155 digits): that conversion is refused rather than guessed.

/** An expression whose value Terraform would compute but this evaluator refuses. */
export class HclEvalError extends Error {
  override readonly name: string = "HclEvalError";
}

/** Decimal exponents beyond this are refused: a default cannot hold such numbers anyway. */
const MAX_EXPONENT = 1000;
/**
 * Numerators and denominators beyond this are refused too, so that a chain of products cannot
 * grow numbers without end (a double ends near 2^1024).
 */
const LIMIT = 1n << 16384n;
const NUMBER_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

export class HclNumber {
  /** num/den in lowest terms, den > 0. */
  private constructor(
    readonly num: bigint,
    readonly den: bigint,
  ) {}

  static of(num: bigint, den = 1n): HclNumber {
    if (den === 0n) throw new HclEvalError("division by zero gives an infinite number");
    const sign = den < 0n ? -1n : 1n;
    const g = gcd(num, den) || 1n;
    const n = (sign * num) / g;
    const d = (sign * den) / g;
    if (n > LIMIT || -n > LIMIT || d > LIMIT) {
      throw new HclEvalError("a number in the expression is out of the range a default can hold");
    }
    return new HclNumber(n, d);
  }

  static fromInt(n: number): HclNumber {
    return new HclNumber(BigInt(n), 1n);
  }

  /**
   * Decimal text as HCL number literals and string-to-number conversion read it (`12`,
   * `1.5`, `1e3`, `.5`, `-2`); undefined for anything else.
   */
  static parse(text: string): HclNumber | undefined {
    const m = NUMBER_TEXT.exec(text);
    if (!m) return undefined;
    const [, sign, whole = "", fraction = "", exponent = "0"] = m;
    if (whole === "" && fraction === "") return undefined;
    const exp = Number(exponent) - fraction.length;
    if (Math.abs(exp) > MAX_EXPONENT) {
      throw new HclEvalError(`the number ${text} is out of the range a default can hold`);
    }
    const digits = BigInt(`${whole}${fraction}` || "0") * (sign === "-" ? -1n : 1n);
    return exp >= 0
      ? HclNumber.of(digits * 10n ** BigInt(exp))
      : HclNumber.of(digits, 10n ** BigInt(-exp));
  }

  add(o: HclNumber): HclNumber {
    return HclNumber.of(this.num * o.den + o.num * this.den, this.den * o.den);
  }
  sub(o: HclNumber): HclNumber {
    return HclNumber.of(this.num * o.den - o.num * this.den, this.den * o.den);
  }
  mul(o: HclNumber): HclNumber {
    return HclNumber.of(this.num * o.num, this.den * o.den);
  }
  div(o: HclNumber): HclNumber {
    if (o.num === 0n) {
      throw new HclEvalError(
        this.num === 0n
          ? "Operation failed: zero divided by zero has no value"
          : "division by zero gives an infinite number, which a default cannot hold",
      );
    }
    return HclNumber.of(this.num * o.den, this.den * o.num);
  }
  /** Remainder of the division truncated toward zero; `x % 0` is x, as in Terraform. */
  mod(o: HclNumber): HclNumber {
    if (o.num === 0n) return this;
    const q = (this.num * o.den) / (this.den * o.num); // BigInt division truncates
    return this.sub(o.mul(HclNumber.of(q)));
  }
  neg(): HclNumber {
    return new HclNumber(-this.num, this.den);
  }
  compare(o: HclNumber): number {
    const d = this.num * o.den - o.num * this.den;
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  }
  equals(o: HclNumber): boolean {
    return this.num === o.num && this.den === o.den;
  }
  isInteger(): boolean {
    return this.den === 1n;
  }

  /** The nearest double (ties to even): what the value becomes once stored as JSON. */
  toDouble(): number {
    const negative = this.num < 0n;
    const n = negative ? -this.num : this.num;
    if (n === 0n) return 0;
    // A quotient of at least 64 bits, its lowest bit set when bits were cut off, rounds to
    // 53 bits exactly as the exact fraction would.
    const shift = 64 - (bitLength(n) - bitLength(this.den));
    const scaledNum = shift >= 0 ? n << BigInt(shift) : n;
    const scaledDen = shift >= 0 ? this.den : this.den << BigInt(-shift);
    let q = scaledNum / scaledDen;
    if (q * scaledDen !== scaledNum) q |= 1n;
    // Two steps, so that neither power of two leaves the range of doubles on its own.
    const half = Math.trunc(shift / 2);
    const value = Number(q) * 2 ** -half * 2 ** -(shift - half);
    return negative ? -value : value;
  }

  /** The text Terraform gives the number where a string is needed: plain decimal, no exponent. */
  toText(): string {
    if (this.den === 1n) return this.num.toString();
    let twos = 0;
    let fives = 0;
    let d = this.den;
    while (d % 2n === 0n) {
      d /= 2n;
      twos++;
    }
    while (d % 5n === 0n) {
      d /= 5n;
      fives++;
    }
    if (d !== 1n) {
      throw new HclEvalError(
        `the number ${this.num}/${this.den} has no finite decimal form, so it cannot be turned into text exactly`,
      );
    }
    const places = Math.max(twos, fives);
    const scaled = this.num * (10n ** BigInt(places) / this.den);
    const negative = scaled < 0n;
    const digits = (negative ? -scaled : scaled).toString().padStart(places + 1, "0");
    const point = digits.length - places;
    return `${negative ? "-" : ""}${digits.slice(0, point)}.${digits.slice(point)}`;
  }
}
