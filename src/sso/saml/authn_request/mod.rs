//! AuthnRequests: the ones Sesame sends to an ENT's identity provider (HTTP-Redirect), and the
//! ones publishers' service providers send Sesame (HTTP-Redirect or HTTP-POST).

mod build;
mod receive;

pub use build::{AuthnRequestParams, OutgoingRequest, RequestBuildError, redirect_request};
pub use receive::{
    AuthnRequest, AuthnRequestError, IncomingBinding, RegisteredSp, RequestRules, receive_authn_request,
};
